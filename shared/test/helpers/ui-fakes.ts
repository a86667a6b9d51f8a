// Test doubles for the two UIs (the TUI in client-cli, the tray in client-desktop): two
// profiles, an in-memory profile file and a knock service driven by hand. One copy,
// imported by both packages' tests.
import { serializeProfiles, type Profile, type ProfileRotating } from '@knock/shared';
import {
  loadedFromParse,
  type KnockOutcome,
  type KnockService,
  type KnockServiceOptions,
  type KnockServiceProgress,
  type ProfileChange,
  type ProfileStore,
  type StoredProfiles,
} from '@knock/shared/node';
import { applyProfileChange } from '@knock/shared/profile-edit';
import { parseProfiles } from '@knock/shared/profiles';

export const PATH = '/home/ada/.config/knock/config.toml';

/** The rotating profiles' secret in these tests (base32, 160 bits). */
export const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** A rotating profile's keys: door ssh, 4 TCP knocks from 10000-65000, 30 s steps. */
export const rotatingKeys = (extra: Partial<ProfileRotating> = {}): ProfileRotating => ({
  secret: SECRET,
  door: 'ssh',
  length: 4,
  step: 30,
  low: 10000,
  high: 65000,
  protocols: 'tcp',
  ...extra,
});

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

/**
 * An in-memory profile file with the real editor: `text` is the file, `update` applies a
 * change with applyProfileChange (so conflicts are refused as on disk). `saves` records the
 * profiles after every write, `changes` the changes; `failSave` makes the next write fail.
 */
export class FakeStore implements ProfileStore {
  text: string;
  saves: Profile[][] = [];
  changes: ProfileChange[] = [];
  loads = 0;
  failSave: Error | undefined;
  failLoad: Error | undefined;
  constructor(
    profiles: Profile[] = [],
    public exists = profiles.length > 0,
    readonly path = PATH,
  ) {
    this.text = serializeProfiles(profiles);
  }
  /** The profiles the file holds; setting them rewrites the file (as another program would). */
  get profiles(): Profile[] {
    return parseProfiles(this.text, this.path).profiles;
  }
  set profiles(profiles: Profile[]) {
    this.text = serializeProfiles(profiles);
  }
  #loaded(): StoredProfiles {
    // What the real store answers for this text (a file nothing can be used of throws).
    const loaded = loadedFromParse(this.path, parseProfiles(this.text, this.path), {});
    return { ...loaded, exists: this.exists };
  }
  async load(): Promise<StoredProfiles> {
    this.loads += 1;
    if (this.failLoad) throw this.failLoad;
    return this.#loaded();
  }
  async update(change: ProfileChange): Promise<StoredProfiles> {
    const error = this.failSave;
    this.failSave = undefined;
    if (error) throw error;
    this.text = applyProfileChange(this.text, change, { file: this.path });
    this.changes.push(structuredClone(change));
    this.saves.push(this.profiles);
    this.exists = true;
    return this.#loaded();
  }
}

/** A knock service the test drives by hand: `emit` progress, then `finish` with an outcome. */
export class ManualKnocker implements KnockService {
  calls: Profile[] = [];
  /** The options of each call (the profile file the knock resolves relative paths from). */
  options: (KnockServiceOptions | undefined)[] = [];
  #progress: ((event: KnockServiceProgress) => void) | undefined;
  #resolve: ((outcome: KnockOutcome) => void) | undefined;
  knock(
    profile: Profile,
    onProgress: (event: KnockServiceProgress) => void,
    options?: KnockServiceOptions,
  ): Promise<KnockOutcome> {
    this.calls.push(profile);
    this.options.push(options);
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
