import { KnockError } from '@knock/shared';
import type { Logger } from '../daemon/log.js';
import { sharedUsedStore, type SingleUseStore } from '../cluster/single-use.js';
import {
  DEFAULT_STATE_DIR,
  FileUsedStore,
  type UsedKey,
  type UsedSequenceStore,
} from './used-store.js';

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

/** The scope of rotating doors' used sequences in the cluster's single-use store. */
export const CLUSTER_SCOPE = 'rotating';

/**
 * A used key as the cluster stores and announces it, and back: a JSON array
 * `[door, secret fingerprint, family, step]` (any door name fits; the secret is never
 * published, only its fingerprint). Ids of other scopes, or malformed, give undefined.
 */
export const clusterCodec = {
  toClaim: (k: UsedKey): { scope: string; id: string } => ({
    scope: CLUSTER_SCOPE,
    id: JSON.stringify([k.door, k.secret, k.family, k.step]),
  }),
  fromClaim(scope: string, id: string): UsedKey | undefined {
    if (scope !== CLUSTER_SCOPE) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(id);
    } catch {
      return undefined;
    }
    if (!Array.isArray(value) || value.length !== 4) return undefined;
    const [door, secret, family, step] = value as unknown[];
    if (typeof door !== 'string' || typeof secret !== 'string') return undefined;
    if ((family !== 4 && family !== 6) || !Number.isSafeInteger(step)) return undefined;
    return { door, secret, family, step: step as number };
  },
};

/**
 * With a cluster (Cluster =): the rotating doors' used store goes through the cluster's
 * single-use store, so a derived sequence opens once across every node (the first claim
 * in Redis wins, Cluster_Fail decides when Redis cannot answer in time), and a sequence
 * used on another node is remembered here too (file and planning). The local file store
 * still makes it hold across a restart.
 */
export function clusterUsedStore(
  local: UsedSequenceStore,
  cluster: SingleUseStore,
  log: Logger,
  now: () => number = Date.now,
): UsedSequenceStore & { close(): void } {
  return sharedUsedStore(
    local,
    cluster,
    clusterCodec,
    (text) => log.info('cluster', `rotating sequence ${text}`),
    now,
  );
}
