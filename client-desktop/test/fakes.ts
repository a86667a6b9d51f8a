import type { Profile } from '@knock/shared';
import type {
  KnockOutcome,
  KnockService,
  KnockServiceProgress,
  ProfileStore,
  StoredProfiles,
} from '@knock/shared/node';
import type { Clock } from '../src/main/tray-controller.js';

export const PATH = '/home/ada/.config/knock/config.toml';

export const maths: Profile = {
  host: 'ssh.maths.fr',
  sequence: [
    { port: 1228, protocol: 'tcp' },
    { port: 1227, protocol: 'tcp' },
  ],
  port: 22,
  family: 'any',
  delayMs: 0,
};

export const lab: Profile = {
  host: 'lab.example.org',
  oneTimeSequences: '/home/ada/.config/knock/lab.ots',
  family: 'ipv4',
  delayMs: 100,
};

/** An in-memory profile file. */
export class FakeStore implements ProfileStore {
  saves: Profile[][] = [];
  failLoad: Error | undefined;
  failSave: Error | undefined;
  constructor(
    public profiles: Profile[] = [],
    readonly path = PATH,
  ) {}
  async load(): Promise<StoredProfiles> {
    if (this.failLoad) throw this.failLoad;
    return { path: this.path, profiles: structuredClone(this.profiles), exists: true };
  }
  async save(profiles: Profile[]): Promise<void> {
    if (this.failSave) throw this.failSave;
    this.saves.push(structuredClone(profiles));
    this.profiles = structuredClone(profiles);
  }
}

/** A knock service the test finishes by hand. */
export class ManualKnocker implements KnockService {
  calls: Profile[] = [];
  #progress: ((event: KnockServiceProgress) => void) | undefined;
  #resolve: ((outcome: KnockOutcome) => void) | undefined;
  knock(
    profile: Profile,
    onProgress: (event: KnockServiceProgress) => void,
  ): Promise<KnockOutcome> {
    this.calls.push(profile);
    this.#progress = onProgress;
    return new Promise((resolve) => (this.#resolve = resolve));
  }
  emit(event: KnockServiceProgress): void {
    this.#progress?.(event);
  }
  finish(outcome: KnockOutcome): void {
    if (!this.#resolve) throw new Error('no knock in progress');
    this.#resolve(outcome);
  }
}

/** A clock the test moves; `every` timers fire when time passes them. */
export class FakeClock implements Clock {
  time = Date.UTC(2026, 0, 1, 12, 0, 0);
  timers = new Set<{ ms: number; next: number; tick: () => void }>();
  now = (): number => this.time;
  every = (ms: number, tick: () => void): (() => void) => {
    const timer = { ms, next: this.time + ms, tick };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  };
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers].filter((t) => t.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.time = due.next;
      due.next += due.ms;
      due.tick();
    }
    this.time = end;
  }
}

export const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
