import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic, type AtomicWriteOptions } from './atomic-file.js';
import { withFileLock, type LockOptions } from './lock.js';
import type { ProfileChange } from './profile-edit.js';
import {
  profilesHomeDir,
  loadedFromParse,
  readProfileText,
  type LoadedProfiles,
} from './profiles.js';

export type { ProfileChange } from './profile-edit.js';

/** What a ProfileStore loads: loadProfiles' answer. */
export type StoredProfiles = LoadedProfiles;

/**
 * Where the TUI and the tray read and write profiles: the file the CLI reads too
 * (createProfileStore), or a fake in tests.
 */
export interface ProfileStore {
  /** The file, known before it is read (so a load error can name it). */
  readonly path: string;
  /** Rejects with a KnockError naming file:line when nothing in the file can be used. */
  load(): Promise<StoredProfiles>;
  /**
   * Adds, changes or deletes one profile, and answers the file as it is afterwards
   * (with what other programs changed meanwhile). Rejects with a KnockError, writing
   * nothing, when the change cannot be made safely (the profile was changed meanwhile…).
   */
  update(change: ProfileChange): Promise<StoredProfiles>;
}

export interface ProfileStoreOptions {
  env?: NodeJS.ProcessEnv;
  lock?: LockOptions;
  /** Injected file operations for the atomic writes (tests). */
  fs?: AtomicWriteOptions['fs'];
}

/** The backup a save leaves: the file as it was just before knock last wrote it. */
export const backupPath = (path: string): string => `${path}.bak`;

/**
 * The profile file as a ProfileStore. Every update runs under the file's lock
 * (PATH.lock, shared with every other knock process), re-reads the file, changes only the
 * one profile (applyProfileChange: comments, order, formatting and unknown keys stay),
 * keeps the previous text in PATH.bak, and replaces the file atomically.
 */
export function createProfileStore(path: string, options: ProfileStoreOptions = {}): ProfileStore {
  const env = options.env ?? process.env;
  const load = async (): Promise<StoredProfiles> => {
    const text = await readProfileText(path);
    if (text === undefined) return { path, profiles: [], exists: false, warnings: [], invalid: [] };
    const { parseProfiles } = await import('./profiles-parse.js');
    return loadedFromParse(path, parseProfiles(text, path), env);
  };
  return {
    path,
    load,
    update: async (change) => {
      // The lock file lives beside the profile file.
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      return withFileLock(
        path,
        async () => {
          const { applyProfileChange } = await import('./profile-edit.js');
          const before = await readProfileText(path);
          const after = applyProfileChange(before ?? '', change, {
            file: path,
            home: profilesHomeDir(env),
          });
          const fs = options.fs ? { fs: options.fs } : {};
          if (before !== undefined) await writeFileAtomic(backupPath(path), before, fs);
          await writeFileAtomic(path, after, fs);
          return load();
        },
        options.lock,
      );
    },
  };
}
