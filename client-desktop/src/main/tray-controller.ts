import { describeError, formatEndpoint, formatSequence, type Profile } from '@knock/shared';
import type { KnockOutcome, KnockService, ProfileStore } from '@knock/shared/node';
import {
  grantLeft,
  menuTemplate,
  showsElapsed,
  tooltipText,
  trayIcon,
  type TrayIconState,
  type MenuAction,
  type MenuItem,
  type TrayRun,
  type TrayState,
} from './menu-template.js';

export interface Clock {
  now(): number;
  /** Calls `tick` every `ms` until the returned function is called. */
  every(ms: number, tick: () => void): () => void;
}

/** Everything the tray does to the outside world; Electron-backed in main.ts, fakes in tests. */
export interface TrayDeps {
  createTray(tooltip: string): void;
  setMenu(items: MenuItem[]): void;
  /**
   * A desktop notification; `action` runs when the user clicks it, or its button labelled
   * `action.label` (where the platform shows buttons).
   */
  notify(title: string, body: string, action?: { label: string; run: () => void }): void;
  /** The tray's tooltip (the countdowns). */
  setTooltip?(text: string): void;
  /** The tray's icon for a state (idle, knocking, open, failed). */
  setIcon?(state: TrayIconState): void;
  /** Electron's login item ("Open at login"). */
  loginItem?: { get(): boolean; set(open: boolean): void };
  knock: KnockService;
  /** Shows the profile window (focuses it if it is already open). */
  openWindow(): void;
  clock: Clock;
  store: ProfileStore;
  quit(): void;
}

const formatLeft = (seconds: number): string =>
  seconds >= 60 ? '1 minute' : `${seconds} second${seconds === 1 ? '' : 's'}`;

/** The notification for an outcome: "open", or what failed. */
export function notificationFor(
  profile: Profile,
  outcome: KnockOutcome,
): { title: string; body: string } {
  switch (outcome.status) {
    case 'open':
      return {
        title: `${profile.host} is open`,
        body: `port ${outcome.port} answered on ${formatEndpoint(outcome.address, outcome.port)}`,
      };
    case 'closed':
      return { title: `${profile.host}: still closed`, body: outcome.reason };
    case 'failed':
      return { title: `${profile.host}: knock failed`, body: outcome.reason };
    case 'sent':
      return {
        title: `${profile.host}: knocked`,
        body: `sent ${profile.sequence ? formatSequence(profile.sequence) : 'the next one-time sequence'} to ${outcome.addresses.join(', ')}; no port to verify`,
      };
  }
}

const PHASE: Record<KnockOutcome['status'], TrayRun['phase']> = {
  open: 'open',
  closed: 'closed',
  failed: 'failed',
  sent: 'sent',
};

/**
 * The tray app's behaviour, with every effect injected (TrayDeps): loads the
 * profiles, rebuilds the menu whenever something changes, knocks on click,
 * notifies the outcome and keeps the "opened m:ss ago" line ticking.
 */
export class TrayController {
  #state: TrayState;
  #stopTicking: (() => void) | undefined;
  readonly #deps: TrayDeps;

  constructor(deps: TrayDeps) {
    this.#deps = deps;
    this.#state = { path: deps.store.path, profiles: [], runs: {} };
    const login = deps.loginItem?.get();
    if (login !== undefined) this.#state.openAtLogin = login;
  }

  /** The notification a minute before a grant runs out, so a click can knock again in time. */
  static readonly WARN_MS = 60_000;

  get state(): TrayState {
    return this.#state;
  }

  async start(): Promise<void> {
    this.#deps.createTray('knock: click a host to knock');
    await this.reload();
  }

  /** Re-reads the profile file (at start and after the window saved). */
  async reload(): Promise<void> {
    try {
      const loaded = await this.#deps.store.load();
      const { loadError: _, ...rest } = this.#state;
      this.#state = {
        ...rest,
        path: loaded.path,
        profiles: loaded.profiles,
        invalid: loaded.invalid.map((i) => i.host),
      };
    } catch (error) {
      const text = describeError(error).text;
      this.#state = { ...this.#state, profiles: [], invalid: [], loadError: text };
      this.#deps.notify('knock: cannot read the profiles', text);
    }
    this.#render();
  }

  async handle(action: MenuAction): Promise<void> {
    switch (action.type) {
      case 'knock':
        await this.knock(action.host);
        return;
      case 'close':
        await this.knock(action.host, 'close');
        return;
      case 'knock-all':
        // One after the other: each notifies its own outcome.
        for (const p of [...this.#state.profiles]) await this.knock(p.host);
        return;
      case 'login':
        this.#deps.loginItem?.set(action.open);
        this.#state = {
          ...this.#state,
          openAtLogin: this.#deps.loginItem?.get() ?? action.open,
        };
        this.#render();
        return;
      case 'edit':
        this.#deps.openWindow();
        return;
      case 'quit':
        this.stop();
        this.#deps.quit();
        return;
    }
  }

  /** Knocks one profile and verifies its port; a second click while it runs is ignored. */
  async knock(host: string, mode: 'knock' | 'close' = 'knock'): Promise<KnockOutcome | undefined> {
    const profile = this.#state.profiles.find((p) => p.host === host);
    const current = Object.hasOwn(this.#state.runs, host) ? this.#state.runs[host] : undefined;
    if (!profile || current?.phase === 'knocking' || current?.phase === 'verifying') return;
    if (mode === 'close') return this.#close(profile);
    this.#setRun(host, { phase: 'knocking', since: this.#deps.clock.now() });
    const outcome = await this.#deps.knock.knock(
      profile,
      (event) => {
        if (event.type === 'verifying')
          this.#setRun(host, {
            phase: 'verifying',
            since: this.#deps.clock.now(),
            port: event.port,
          });
      },
      // A relative one_time_sequences path is read from the profile file's folder.
      { profileFile: this.#state.path },
    );
    const now = this.#deps.clock.now();
    const run: TrayRun = { phase: PHASE[outcome.status], since: now };
    if (outcome.status === 'open' || outcome.status === 'closed') run.port = outcome.port;
    if ((outcome.status === 'open' || outcome.status === 'sent') && profile.openFor !== undefined)
      run.until = now + profile.openFor * 1000;
    this.#setRun(host, run);
    const { title, body } = notificationFor(profile, outcome);
    this.#deps.notify(title, body);
    this.#tick();
    return outcome;
  }

  stop(): void {
    this.#stopTicking?.();
    this.#stopTicking = undefined;
  }

  /** Knocks the profile's close_sequence; the countdown ends when it went out. */
  async #close(profile: Profile): Promise<KnockOutcome | undefined> {
    const host = profile.host;
    const before = Object.hasOwn(this.#state.runs, host) ? this.#state.runs[host] : undefined;
    this.#setRun(host, { phase: 'knocking', since: this.#deps.clock.now() });
    const outcome = await this.#deps.knock.knock(profile, () => undefined, {
      profileFile: this.#state.path,
      mode: 'close',
    });
    if (outcome.status === 'sent') {
      const { [host]: _, ...others } = this.#state.runs;
      this.#state = { ...this.#state, runs: others };
      this.#render();
      this.#deps.notify(
        `${host}: closed`,
        `knocked the close sequence to ${outcome.addresses.join(', ')}`,
      );
    } else {
      if (before) this.#setRun(host, before);
      const { title, body } = notificationFor(profile, outcome);
      this.#deps.notify(title, body);
    }
    return outcome;
  }

  #setRun(host: string, run: TrayRun): void {
    this.#state = { ...this.#state, runs: { ...this.#state.runs, [host]: run } };
    this.#render();
  }

  #render(): void {
    const now = this.#deps.clock.now();
    this.#deps.setMenu(menuTemplate(this.#state, now));
    this.#deps.setTooltip?.(tooltipText(this.#state, now));
    this.#deps.setIcon?.(trayIcon(this.#state, now));
  }

  /** A minute before a grant runs out: one notification per grant; a click knocks again. */
  #warn(): void {
    const now = this.#deps.clock.now();
    for (const [host, run] of Object.entries(this.#state.runs)) {
      const left = grantLeft(run, now);
      if (left === undefined || run.warned || left * 1000 > TrayController.WARN_MS) continue;
      this.#state = {
        ...this.#state,
        runs: { ...this.#state.runs, [host]: { ...run, warned: true } },
      };
      this.#deps.notify(
        `${host}: ${formatLeft(left)} left`,
        'The door closes soon. Click to knock again.',
        { label: 'Knock again', run: () => void this.knock(host) },
      );
    }
  }

  /** Keeps redrawing once a second while some line shows a running time, and only then. */
  #tick(): void {
    const relevant = () =>
      Object.values(this.#state.runs).some((run) => showsElapsed(run, this.#deps.clock.now()));
    if (this.#stopTicking || !relevant()) return;
    this.#stopTicking = this.#deps.clock.every(1000, () => {
      this.#warn();
      this.#render();
      if (!relevant()) this.stop();
    });
  }
}
