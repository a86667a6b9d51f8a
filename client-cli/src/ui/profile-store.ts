import type { Profile } from '@knock/shared';

export interface LoadedProfiles {
  /** The file the CLI reads too ($KNOCK_CONFIG, else the XDG config path). */
  path: string;
  profiles: Profile[];
  /** False when the file does not exist yet (an empty list, not an error). */
  exists: boolean;
}

/** Where the TUI reads and writes profiles: loadProfiles/saveProfiles in production, a fake in tests. */
export interface ProfileStore {
  /** The file, known before it is read (so a load error can name it). */
  readonly path: string;
  /** Rejects with a KnockError naming file:line when the file is invalid. */
  load(): Promise<LoadedProfiles>;
  /** Writes the whole list atomically (temp file + rename): a crash never leaves half a file. */
  save(profiles: Profile[]): Promise<void>;
}
