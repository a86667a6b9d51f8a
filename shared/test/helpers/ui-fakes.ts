// Test doubles for the two UIs (the TUI in client-cli, the tray in client-desktop): two
// profiles, an in-memory profile file and a knock service driven by hand. One copy,
// imported by both packages' tests.
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
  #progress: ((event: KnockServiceProgress) => void) | undefined;
  #resolve: ((outcome: KnockOutcome) => void) | undefined;
  knock(
    profile: Profile,
    onProgress: (event: KnockServiceProgress) => void,
  ): Promise<KnockOutcome> {
    this.calls.push(profile);
    this.#progress = onProgress;
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
  emit(event: KnockServiceProgress): void {
    if (!this.#progress) throw new Error('no knock in progress');
    this.#progress(event);
  }
  finish(outcome: KnockOutcome): void {
    if (!this.#resolve) throw new Error('no knock in progress');
    this.#resolve(outcome);
  }
}
