// Session-scoped access: while an ssh session (knock ssh) or a relay (knock proxy) lives,
// the grant is kept by knocking again before it runs out; when the session ends, the
// profile's close_sequence is knocked so the door closes with it. The clock and the
// timers are injected: every decision here is tested with a fake clock.
import { errorText, formatSeconds, formatSequence, type Knock } from '@knock/shared/core';
import type { AddressFamily, KnockProgress, KnockSent } from '@knock/shared/node';
import type { CliDeps, Out, Profile } from './deps.js';
import { knock } from './knock-flow.js';
import { reporter } from './report.js';

/** The grant knock-server gives when its door has no Open_Timeout. */
export const DEFAULT_OPEN_FOR_S = 300;
/** Never knock again sooner than this after the previous knock. */
export const MIN_REFRESH_MS = 10_000;

export interface SessionClock {
  /** Wall-clock time in ms (Date.now): it jumps forward over a suspend. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realSessionClock: SessionClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    // The session (ssh, the relay) keeps the process alive, never this timer.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * When to knock again: at two thirds of the grant, never sooner than every 10 s, nor sooner
 * than `minMs` (a rotating door: a step and a second, so each re-knock falls in a later step
 * than the knock before it; the same step's sequence opens only once).
 */
export function refreshDelayMs(openForS: number, minMs = 0): number {
  return Math.max(MIN_REFRESH_MS, minMs, Math.floor((openForS * 1000 * 2) / 3));
}

/** The least time between two knocks of a rotating profile: its step, and a second. */
export const rotatingMinRefreshMs = (profile: Profile | undefined): number =>
  profile?.rotating ? (profile.rotating.step + 1) * 1000 : 0;

/** Why keeping stopped. */
export type SessionEnd = 'ended' | 'signal' | 'slept';

export interface KeeperOptions {
  host: string;
  /** Seconds the server grants (the profile's open_for). */
  openForS: number;
  /** The least time between knocks (rotating profiles: see refreshDelayMs). */
  minRefreshMs?: number;
  clock: SessionClock;
  /** Sends the open knock again; rejects on failure (reported, and tried again later). */
  reknock(): Promise<void>;
  /** Sends the close knock (undefined: the profile has no close_sequence). */
  close?: () => Promise<void>;
  /** Re-knock failures and the sleep notice (stderr). */
  warn: Out;
  /** One line per re-knock (--verbose). */
  verbose?: Out | undefined;
  /** How often the wall clock is checked for a jump (a suspend). Default 1 s. */
  tickMs?: number;
}

/**
 * Keeps one host's grant while a session lives. `start()` after the first knock; `stop()`
 * when the session ends: no more re-knocks, then the close knock. A re-knock failure is
 * written to `warn` and never ends the session. When the wall clock shows the machine
 * slept past the grant (the grant is gone, the session's connection most likely too),
 * keeping stops and the close knock goes out: the door is not reopened for a session that
 * may be dead.
 */
export class SessionKeeper {
  readonly #o: KeeperOptions;
  readonly #refreshMs: number;
  readonly #tickMs: number;
  /** Wall clock of the last knock that went out (or was tried). */
  #lastKnock = 0;
  #lastTick = 0;
  #timer: unknown;
  #running = false;
  #inFlight: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  /** Re-knocks sent (for --verbose and tests). */
  reknocks = 0;

  constructor(options: KeeperOptions) {
    this.#o = options;
    this.#refreshMs = refreshDelayMs(options.openForS, options.minRefreshMs);
    this.#tickMs = options.tickMs ?? 1000;
  }

  get refreshMs(): number {
    return this.#refreshMs;
  }

  /** The first knock just went out: start counting from now. */
  start(): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    this.#lastKnock = this.#lastTick = this.#o.clock.now();
    this.#arm();
  }

  /** The session ended: no more re-knocks; the close knock, once. Never rejects. */
  stop(reason: SessionEnd = 'ended'): Promise<void> {
    this.#stopped ??= this.#finish(reason);
    return this.#stopped;
  }

  async #finish(reason: SessionEnd): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    // A re-knock under way finishes first: the close must come after it, not before.
    await this.#inFlight;
    if (!this.#o.close) return;
    this.#o.verbose?.write(`knock: closing ${this.#o.host} (session ${reason})\n`);
    try {
      await this.#o.close();
    } catch (error) {
      this.#o.warn.write(
        `knock: could not knock the close sequence of ${this.#o.host}: ${errorText(error)}\n`,
      );
    }
  }

  #arm(): void {
    if (!this.#running) return;
    this.#timer = this.#o.clock.setTimeout(() => this.#tick(), this.#tickMs);
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#o.clock.now();
    const gap = now - this.#lastTick;
    this.#lastTick = now;
    // A timer late by more than the grant: the machine was suspended (timers do not run
    // then, the wall clock does). If the grant ran out meanwhile, the session is over.
    if (gap > this.#tickMs + 2000 && now - this.#lastKnock >= this.#o.openForS * 1000) {
      this.#o.warn.write(
        `knock: this machine was asleep for ${formatSeconds(gap)}, past the ${this.#o.openForS} s grant of ${this.#o.host}: not knocking it open again\n`,
      );
      void this.stop('slept');
      return;
    }
    if (now - this.#lastKnock >= this.#refreshMs && this.#inFlight === undefined) {
      this.#lastKnock = now;
      this.#inFlight = this.#reknock().finally(() => (this.#inFlight = undefined));
    }
    this.#arm();
  }

  async #reknock(): Promise<void> {
    try {
      await this.#o.reknock();
      this.reknocks++;
      this.#o.verbose?.write(
        `knock: knocked ${this.#o.host} again (every ${formatSeconds(this.#refreshMs)}, grant ${this.#o.openForS} s)\n`,
      );
    } catch (error) {
      this.#o.warn.write(
        `knock: could not knock ${this.#o.host} again: ${errorText(error)}; the session goes on, next try in ${formatSeconds(this.#refreshMs)}\n`,
      );
    }
  }
}

/** What the command line asked about keeping, and what the profile says. */
export interface KeepPlan {
  keep: boolean;
  openForS: number;
  /** The least time between knocks (rotating profiles). */
  minRefreshMs: number;
  closeSequence?: Knock[];
  /** Notes for stderr (why not kept, what keeping costs). */
  notes: string[];
}

/**
 * Whether to keep the grant: `--keep-open` (true), else the profile's keep_open. A one-time-sequence profile is kept only with `--keep-open`: each
 * re-knock uses a line of its file.
 */
export function keepPlan(
  profile: Profile | undefined,
  flag: boolean | undefined,
  host: string,
): KeepPlan {
  const openForS = profile?.openFor ?? DEFAULT_OPEN_FOR_S;
  const notes: string[] = [];
  const wanted = flag ?? profile?.keepOpen ?? false;
  const minRefreshMs = rotatingMinRefreshMs(profile);
  const plan: KeepPlan = { keep: false, openForS, minRefreshMs, notes };
  if (profile?.closeSequence) plan.closeSequence = profile.closeSequence;
  if (!wanted) return plan;
  const perHour = Math.ceil(3_600_000 / refreshDelayMs(openForS));
  if (profile?.oneTimeSequences !== undefined) {
    if (flag !== true) {
      notes.push(
        `knock: not keeping ${host} open: it uses one-time sequences (${profile.oneTimeSequences}) and each re-knock uses a line (${perHour} an hour); pass --keep-open to do it anyway`,
      );
      return plan;
    }
    notes.push(
      `knock: keeping ${host} open uses a line of ${profile.oneTimeSequences} every ${formatSeconds(refreshDelayMs(openForS))} (${perHour} an hour)`,
    );
  }
  if (profile?.openFor === undefined)
    notes.push(
      `knock: ${host}'s profile has no open_for: assuming the server grants ${DEFAULT_OPEN_FOR_S} s (knock-server's default Open_Timeout)`,
    );
  else if (openForS * 1000 <= Math.max(MIN_REFRESH_MS, minRefreshMs))
    notes.push(
      minRefreshMs > MIN_REFRESH_MS
        ? `knock: open_for = ${openForS} is not longer than a step of ${host}'s rotating door and a second (${minRefreshMs / 1000} s between re-knocks, each in a later step): new connections are refused in the gaps`
        : `knock: open_for = ${openForS} is shorter than the ${MIN_REFRESH_MS / 1000} s between re-knocks: new connections are refused in the gaps`,
    );
  plan.keep = true;
  return plan;
}

/** How a close sequence is shown in messages. */
export const showSequence = (knocks: readonly Knock[]): string => formatSequence([...knocks]);

/** Everything `knock ssh` and `knock proxy` need to keep a session's grant. */
export interface SessionRequest {
  host: string;
  profile: Profile | undefined;
  profileFile?: string | undefined;
  /** The knocks given on the command line (--sequence), if any. */
  knocks?: Knock[] | undefined;
  family?: AddressFamily | undefined;
  /** --keep-open (true); undefined: the profile's keep_open. */
  flag: boolean | undefined;
  verbose: Out | undefined;
}

/** What knock() is asked for the session's host: its profile, where it is read, the family. */
const hostRequest = (request: SessionRequest, onEvent: (event: KnockProgress) => void) => ({
  host: request.host,
  ...(request.profile ? { profile: request.profile } : {}),
  ...(request.profileFile !== undefined ? { profileFile: request.profileFile } : {}),
  ...(request.family ? { family: request.family } : {}),
  onEvent,
});

/**
 * A knock that opens the session's host: the first (knock ssh, knock proxy, before the
 * session starts) and each re-knock. The --sequence knocks, else the profile's; serialised
 * with the other knocks on the host.
 */
export function knockForSession(
  deps: CliDeps,
  request: SessionRequest,
  onEvent: (event: KnockProgress) => void,
): Promise<KnockSent> {
  return knock(deps, {
    ...hostRequest(request, onEvent),
    ...(request.knocks ? { knocks: request.knocks } : {}),
    lockNotice: deps.stderr,
    serialize: true,
  });
}

/**
 * After the first knock opened the port: a started keeper when the grant is to be kept
 * (notes on stderr), else undefined. The caller stops it when the session ends.
 */
export function startSession(deps: CliDeps, request: SessionRequest): SessionKeeper | undefined {
  const plan = keepPlan(request.profile, request.flag, request.host);
  for (const note of plan.notes) deps.stderr.write(`${note}\n`);
  if (!plan.keep) return undefined;
  const onEvent = reporter({ verbose: undefined, warn: request.verbose });
  const closeSequence = plan.closeSequence;
  const keeper = new SessionKeeper({
    host: request.host,
    openForS: plan.openForS,
    minRefreshMs: plan.minRefreshMs,
    clock: deps.sessionClock ?? realSessionClock,
    warn: deps.stderr,
    verbose: request.verbose,
    reknock: async () => {
      await knockForSession(deps, request, onEvent);
    },
    ...(closeSequence
      ? {
          close: async () => {
            await knock(deps, {
              ...hostRequest(request, onEvent),
              knocks: closeSequence,
              serialize: true,
            });
            request.verbose?.write(
              `knock: knocked the close sequence of ${request.host} (${showSequence(closeSequence)})\n`,
            );
          },
        }
      : {}),
  });
  request.verbose?.write(
    `knock: keeping ${request.host} open while the session lives: knocking again every ${formatSeconds(keeper.refreshMs)} (open_for ${plan.openForS} s)${closeSequence ? ', the close sequence at the end' : ''}\n`,
  );
  keeper.start();
  return keeper;
}
