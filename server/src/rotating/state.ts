import { KnockError } from '@knock/shared';
import type { Logger } from '../daemon/log.js';
import { DEFAULT_STATE_DIR, FileUsedStore } from './used-store.js';

/**
 * The daemon's used-sequence store in `dir` (--state-dir, default /var/lib/knock-server).
 * Nothing is written until a rotating door opens, so a daemon without one never creates
 * the directory.
 */
export async function openUsedStore(dir: string | undefined, log: Logger): Promise<FileUsedStore> {
  const where = dir ?? DEFAULT_STATE_DIR;
  try {
    return await FileUsedStore.open(where, {
      onError: (error) => log.error('error', error.message),
    });
  } catch (error) {
    throw new KnockError(
      'server.stateDir',
      `cannot read the rotating doors' state in ${where}: ${(error as Error).message}`,
      { hint: 'check the directory and its permissions, or choose another with --state-dir' },
    );
  }
}
