import type { Profile } from '../profile.js';
import type { LoadedProfiles } from './profiles.js';

/** What a ProfileStore loads: loadProfiles' answer; the UIs show no warnings, so none are needed. */
export type StoredProfiles = Omit<LoadedProfiles, 'warnings'>;

/**
 * Where the TUI and the tray read and write profiles: the file the CLI reads too
 * (loadProfiles/saveProfiles on profilesPath), or a fake in tests.
 */
export interface ProfileStore {
  /** The file, known before it is read (so a load error can name it). */
  readonly path: string;
  /** Rejects with a KnockError naming file:line when the file is invalid. */
  load(): Promise<StoredProfiles>;
  /** Writes the whole list atomically (temp file + rename): a crash never leaves half a file. */
  save(profiles: Profile[]): Promise<void>;
}
