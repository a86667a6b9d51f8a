import type { Profile } from '@knock/shared';

export interface LoadedProfiles {
  path: string;
  profiles: Profile[];
  exists: boolean;
}

/** The profile file the CLI reads too: loadProfiles/saveProfiles in the app, a fake in tests. */
export interface ProfileStore {
  readonly path: string;
  /** Rejects with a KnockError naming file:line when the file is invalid. */
  load(): Promise<LoadedProfiles>;
  /** Writes the whole list atomically. */
  save(profiles: Profile[]): Promise<void>;
}
