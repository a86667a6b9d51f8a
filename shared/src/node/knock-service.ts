import { describeError, KnockError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatSeconds } from '../format.js';
import { DEFAULT_VERIFY_TIMEOUT_MS, type Profile } from '../profile.js';
import type { Knock } from '../sequence.js';
import type { LockHolder } from './lock.js';
import type { takeOneTimeSequence } from './ots-file.js';
import type { verifyOpen } from './probe.js';
import type { AddressFamily, resolveTargets } from './resolve.js';
import type { KnockProgress, sendKnocks } from './sender.js';
import type { RotatingKnocks } from './rotating-knock.js';

/**
 * What a UI sees of a knock while it runs: the TUI turns these into its live status
 * line, the tray into its menu and notifications. Coarser than the sender's
 * KnockProgress (each knock once, whatever the number of addresses); nothing here
 * touches a socket.
 */
export type KnockServiceProgress =
  | { type: 'resolved'; addresses: string[] }
  | { type: 'sent'; knock: Knock; index: number; total: number }
  /** An address (often IPv6 without a route) could not be knocked; the others go on. */
  | { type: 'unreachable'; address: string; reason: string }
  | { type: 'verifying'; port: number; addresses: string[] }
  | { type: 'open'; address: string; port: number }
  | { type: 'closed'; port: number; reason: string };

export type KnockOutcome =
  /** The verified port answered. */
  | { status: 'open'; address: string; port: number }
  /** Knocked, but the port did not open before the timeout. */
  | { status: 'closed'; port: number; reason: string }
  /** Knocked; the profile names no port, so there was nothing to verify. */
  | { status: 'sent'; addresses: string[] }
  /** Nothing went out, or the check could not run (no such name, one-time file used up, no route…). */
  | { status: 'failed'; reason: string; exitCode: number };

/** "Knock this profile and verify": the one effect the TUI and the tray need. */
export interface KnockService {
  knock(
    profile: Profile,
    onProgress: (event: KnockServiceProgress) => void,
    options?: KnockServiceOptions,
  ): Promise<KnockOutcome>;
}

export interface KnockServiceOptions {
  /** The profile file the profile was read from: a relative one_time_sequences is read from its folder. */
  profileFile?: string;
  /**
   * 'knock' (default): knock, then verify the port. 'verify': only probe the port (is the
   * grant still there?). 'close': knock the profile's close_sequence (the server's Revoke door).
   */
  mode?: 'knock' | 'verify' | 'close';
}

/** The @knock/shared/node functions the real service is built on (injected, so tests can fake them). */
export interface KnockDeps {
  resolveTargets: typeof resolveTargets;
  sendKnocks: typeof sendKnocks;
  verifyOpen: typeof verifyOpen;
  takeOneTimeSequence: typeof takeOneTimeSequence;
  /** The clock rotating profiles derive their sequence from (default Date.now). */
  now?: () => number;
}

/** One knock run: what to knock, where, and how; everything but `host` is optional. */
export interface KnockRequest {
  host: string;
  /**
   * The knocks to send (a command line's); undefined: the profile's sequence, its rotating
   * sequence of the current step, or the next of its one-time file.
   */
  knocks?: readonly Knock[];
  profile?: Profile;
  /** The profile file, for a relative one_time_sequences or secret_file path. */
  profileFile?: string;
  /** Every knock UDP (knockd's -u), the profile's too (not a rotating one's: derived as the server expects). */
  allUdp?: boolean;
  /** undefined: the profile's family, else any. */
  family?: AddressFamily;
  /** undefined: the profile's delay_ms, else 0. */
  delayMs?: number;
  /** Every packet and skipped address, as the sender reports them. */
  onEvent?: (event: KnockProgress) => void;
  onResolved?: (addresses: string[]) => void;
  /** The one-time file's lock is held by another process for more than a second. */
  onLockWait?: (holder: LockHolder) => void;
}

export interface KnockSent {
  addresses: string[];
  knocks: Knock[];
  /** Set when a one-time sequence was used: the file (as written) and how many are left. */
  oneTime?: { file: string; remaining: number };
  /** Set when a rotating sequence was knocked: its step and each family's sequence. */
  rotating?: RotatingKnocks;
  /** Rotating profile: what to say if the port stays closed (the clocks, most often). */
  hint?: string;
}

/**
 * Resolves the host once, then sends the knocks: the request's, the profile's sequence,
 * the rotating sequence of the current step (one per address family, from `deps.now`),
 * or the next sequence of its one-time file (marked used only once sent). The one knock
 * flow of the command line, the TUI and the tray; failures are thrown as KnockError.
 */
export async function knockHost(
  deps: Pick<KnockDeps, 'resolveTargets' | 'sendKnocks' | 'takeOneTimeSequence' | 'now'>,
  request: KnockRequest,
): Promise<KnockSent> {
  const { profile } = request;
  const family = request.family ?? profile?.family ?? 'any';
  const delayMs = request.delayMs ?? profile?.delayMs ?? 0;
  const adjust = (knocks: readonly Knock[]): Knock[] =>
    request.allUdp ? knocks.map((k) => ({ port: k.port, protocol: 'udp' as const })) : [...knocks];
  const addresses = await deps.resolveTargets(request.host, family);
  request.onResolved?.(addresses);
  const send = (knocks: Knock[]) =>
    deps.sendKnocks({
      addresses,
      knocks,
      delayMs,
      ...(request.onEvent ? { onEvent: request.onEvent } : {}),
    });

  const fixed =
    request.knocks ?? (profile?.sequence && profile.sequence.length > 0 ? profile.sequence : []);
  if (fixed.length > 0) {
    const knocks = adjust(fixed);
    await send(knocks);
    return { addresses, knocks };
  }
  if (request.knocks === undefined && profile?.rotating !== undefined) {
    // Loaded only for rotating profiles: the derivation, the secret file.
    const { clockHint, rotatingKnocks } = await import('./rotating-knock.js');
    const plan = await rotatingKnocks(
      request.host,
      profile.rotating,
      addresses,
      (deps.now ?? Date.now)(),
      request.profileFile,
    );
    // One sequence per address family, numbered on from one family to the next; the
    // server expects the derived protocols: -u does not apply.
    const total = plan.groups.reduce((n, g) => n + g.knocks.length, 0);
    const onEvent = request.onEvent;
    let offset = 0;
    for (const group of plan.groups) {
      const first = offset;
      await deps.sendKnocks({
        addresses: group.addresses,
        knocks: group.knocks,
        delayMs,
        ...(onEvent
          ? {
              onEvent: (event: KnockProgress) =>
                onEvent(
                  event.type === 'knock'
                    ? { ...event, index: first + event.index, count: total }
                    : event,
                ),
            }
          : {}),
      });
      offset += group.knocks.length;
    }
    return {
      addresses,
      knocks: plan.groups.flatMap((g) => g.knocks),
      rotating: plan,
      hint: clockHint(profile.rotating, plan),
    };
  }
  if (profile?.oneTimeSequences !== undefined) {
    let sent: Knock[] = [];
    const { remaining } = await deps.takeOneTimeSequence(
      profile.oneTimeSequences,
      async (next) => {
        sent = adjust(next);
        await send(sent);
      },
      {
        ...(request.profileFile !== undefined ? { relativeTo: request.profileFile } : {}),
        ...(request.onLockWait ? { onWait: request.onLockWait } : {}),
      },
    );
    return { addresses, knocks: sent, oneTime: { file: profile.oneTimeSequences, remaining } };
  }
  throw new KnockError(
    'knock.profile.noSequence',
    `the profile for "${request.host}" has neither sequence nor one_time_sequences nor a secret`,
    { exitCode: ExitCode.config, hint: 'add sequence = "PORT,PORT" to it' },
  );
}

/**
 * Knocks every address the profile's host resolves to (for its family), then,
 * when the profile names a port, waits until that port answers on any of them.
 * Expected failures come back as an outcome, never as a thrown error.
 */
export function createKnockService(deps: KnockDeps): KnockService {
  return {
    async knock(profile, onProgress, options = {}) {
      try {
        if (options.mode === 'verify') {
          if (profile.port === undefined)
            return {
              status: 'failed',
              reason: `the profile for ${profile.host} has no port to verify`,
              exitCode: ExitCode.usage,
            };
          const addresses = await deps.resolveTargets(profile.host, profile.family);
          onProgress({ type: 'resolved', addresses });
          return await verify(deps, profile, profile.port, addresses, onProgress, true);
        }
        if (options.mode === 'close' && profile.closeSequence === undefined)
          return {
            status: 'failed',
            reason: `the profile for ${profile.host} has no close_sequence`,
            exitCode: ExitCode.config,
          };
        // With several addresses each gets the whole sequence: show each knock once.
        let shown = 0;
        const { addresses, hint } = await knockHost(deps, {
          host: profile.host,
          profile,
          ...(options.mode === 'close' && profile.closeSequence
            ? { knocks: profile.closeSequence }
            : {}),
          ...(options.profileFile !== undefined ? { profileFile: options.profileFile } : {}),
          onResolved: (resolved) => onProgress({ type: 'resolved', addresses: resolved }),
          onEvent: (event) => {
            if (event.type === 'unreachable') {
              onProgress({
                type: 'unreachable',
                address: event.address,
                reason: event.error.message,
              });
              return;
            }
            if (event.type !== 'knock' || event.index < shown) return;
            shown = event.index + 1;
            onProgress({
              type: 'sent',
              knock: event.knock,
              index: event.index,
              total: event.count,
            });
          },
        });
        if (profile.port === undefined || options.mode === 'close')
          return { status: 'sent', addresses };
        return await verify(deps, profile, profile.port, addresses, onProgress, false, hint);
      } catch (error) {
        const { text, exitCode } = describeError(error);
        return { status: 'failed', reason: text, exitCode };
      }
    },
  };
}

async function verify(
  deps: KnockDeps,
  profile: Profile,
  port: number,
  addresses: string[],
  onProgress: (event: KnockServiceProgress) => void,
  /** Verify only: the grant is there or not; no long wait for it to appear. */
  quick = false,
  /** Added to the reason when the port stays closed (a rotating profile: the clocks). */
  hint?: string,
): Promise<KnockOutcome> {
  const timeoutMs = quick
    ? Math.min(2000, profile.verifyTimeoutMs ?? 2000)
    : (profile.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS);
  onProgress({ type: 'verifying', port, addresses });
  const result = await deps.verifyOpen({ addresses, port, timeoutMs });
  if (result.state === 'open') {
    onProgress({ type: 'open', address: result.address, port });
    return { status: 'open', address: result.address, port };
  }
  const why =
    result.state === 'closed'
      ? 'connection refused'
      : 'no answer: the knock may not have matched, or a firewall drops it';
  const reason = `port ${port} did not open within ${formatSeconds(timeoutMs)} (${why})${hint === undefined ? '' : `; ${hint}`}`;
  onProgress({ type: 'closed', port, reason });
  return { status: 'closed', port, reason };
}
