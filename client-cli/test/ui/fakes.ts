import type { Profile } from '@knock/shared';
import type {
  KnockOutcome,
  KnockService,
  KnockServiceProgress,
  ProfileStore,
  StoredProfiles,
} from '@knock/shared/node';

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
  port: 2222,
  family: 'ipv4',
  delayMs: 100,
};

/** An in-memory profile file; `saves` records every write, `failSave` makes the next one fail. */
export class FakeStore implements ProfileStore {
  saves: Profile[][] = [];
  loads = 0;
  failSave: Error | undefined;
  failLoad: Error | undefined;
  constructor(
    public profiles: Profile[] = [],
    public exists = profiles.length > 0,
    readonly path = PATH,
  ) {}
  async load(): Promise<StoredProfiles> {
    this.loads += 1;
    if (this.failLoad) throw this.failLoad;
    return { path: this.path, profiles: structuredClone(this.profiles), exists: this.exists };
  }
  async save(profiles: Profile[]): Promise<void> {
    const error = this.failSave;
    this.failSave = undefined;
    if (error) throw error;
    this.saves.push(structuredClone(profiles));
    this.profiles = structuredClone(profiles);
    this.exists = true;
  }
}

/** A knock service the test drives by hand: `emit` progress, then `finish` with an outcome. */
export class ManualKnocker implements KnockService {
  calls: Profile[] = [];
  private progress: ((event: KnockServiceProgress) => void) | undefined;
  private resolve: ((outcome: KnockOutcome) => void) | undefined;
  knock(
    profile: Profile,
    onProgress: (event: KnockServiceProgress) => void,
  ): Promise<KnockOutcome> {
    this.calls.push(profile);
    this.progress = onProgress;
    return new Promise((resolve) => {
      this.resolve = resolve;
    });
  }
  emit(event: KnockServiceProgress): void {
    if (!this.progress) throw new Error('no knock in progress');
    this.progress(event);
  }
  finish(outcome: KnockOutcome): void {
    if (!this.resolve) throw new Error('no knock in progress');
    this.resolve(outcome);
  }
}

export const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

export const keys = {
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  enter: '\r',
  escape: '\x1b',
  tab: '\t',
  shiftTab: '\x1b[Z',
  backspace: '\x7f',
  ctrlC: '\x03',
};
