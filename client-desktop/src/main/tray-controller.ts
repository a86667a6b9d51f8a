import { describeError, formatSequence, type Profile } from '@knock/shared';
import type { KnockOutcome, KnockService, ProfileStore } from '@knock/shared/node';
import {
  menuTemplate,
  showsElapsed,
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
export interface TrayPorts {
  createTray(tooltip: string): void;
  setMenu(items: MenuItem[]): void;
  notify(title: string, body: string): void;
  knock: KnockService;
  /** Shows the profile window (focuses it if it is already open). */
  openWindow(): void;
  clock: Clock;
  store: ProfileStore;
  quit(): void;
}

const formatEndpoint = (address: string, port: number): string =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

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
 * The tray app's behaviour, with every effect behind a port: loads the
 * profiles, rebuilds the menu whenever something changes, knocks on click,
 * notifies the outcome and keeps the "opened m:ss ago" line ticking.
 */
export class TrayController {
  #state: TrayState;
  #stopTicking: (() => void) | undefined;
  readonly #ports: TrayPorts;

  constructor(ports: TrayPorts) {
    this.#ports = ports;
    this.#state = { path: ports.store.path, profiles: [], runs: {} };
  }

  get state(): TrayState {
    return this.#state;
  }

  async start(): Promise<void> {
    this.#ports.createTray('knock: click a host to knock');
    await this.reload();
  }

  /** Re-reads the profile file (at start and after the window saved). */
  async reload(): Promise<void> {
    try {
      const loaded = await this.#ports.store.load();
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
      this.#ports.notify('knock: cannot read the profiles', text);
    }
    this.#render();
  }

  async handle(action: MenuAction): Promise<void> {
    switch (action.type) {
      case 'knock':
        await this.knock(action.host);
        return;
      case 'edit':
        this.#ports.openWindow();
        return;
      case 'quit':
        this.stop();
        this.#ports.quit();
        return;
    }
  }

  /** Knocks one profile and verifies its port; a second click while it runs is ignored. */
  async knock(host: string): Promise<KnockOutcome | undefined> {
    const profile = this.#state.profiles.find((p) => p.host === host);
    const current = Object.hasOwn(this.#state.runs, host) ? this.#state.runs[host] : undefined;
    if (!profile || current?.phase === 'knocking' || current?.phase === 'verifying') return;
    this.#setRun(host, { phase: 'knocking', since: this.#ports.clock.now() });
    const outcome = await this.#ports.knock.knock(
      profile,
      (event) => {
        if (event.type === 'verifying')
          this.#setRun(host, {
            phase: 'verifying',
            since: this.#ports.clock.now(),
            port: event.port,
          });
      },
      // A relative one_time_sequences path is read from the profile file's folder.
      { profileFile: this.#state.path },
    );
    const run: TrayRun = { phase: PHASE[outcome.status], since: this.#ports.clock.now() };
    if (outcome.status === 'open' || outcome.status === 'closed') run.port = outcome.port;
    this.#setRun(host, run);
    const { title, body } = notificationFor(profile, outcome);
    this.#ports.notify(title, body);
    this.#tick();
    return outcome;
  }

  stop(): void {
    this.#stopTicking?.();
    this.#stopTicking = undefined;
  }

  #setRun(host: string, run: TrayRun): void {
    this.#state = { ...this.#state, runs: { ...this.#state.runs, [host]: run } };
    this.#render();
  }

  #render(): void {
    this.#ports.setMenu(menuTemplate(this.#state, this.#ports.clock.now()));
  }

  /** Keeps redrawing once a second while some line shows a running time, and only then. */
  #tick(): void {
    const relevant = () =>
      Object.values(this.#state.runs).some((run) => showsElapsed(run, this.#ports.clock.now()));
    if (this.#stopTicking || !relevant()) return;
    this.#stopTicking = this.#ports.clock.every(1000, () => {
      this.#render();
      if (!relevant()) this.stop();
    });
  }
}
