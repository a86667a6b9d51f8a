/**
 * The single-use store: the one place where "this may be used once" is decided, for the
 * whole cluster when there is one. One-time sequences use it (scope `ots:<door>`, id = the
 * sequence); rotating sequences (issue 11) and SPA digests plug in the same way with their
 * own scope (`rotating:<door>`, `spa`) and a `ttlMs` as long as the item could be replayed.
 *
 *   const verdict = await store.claim({ scope: 'rotating:ssh', id: '7001,7002,7003', ttlMs: 60_000 });
 *   if (verdict.accept) open(); else log(describeRefusal(verdict));
 *
 * `claim` never takes longer than the knock deadline (100 ms): when the cluster cannot
 * answer in time the verdict follows Cluster_Fail (closed: refused; open: accepted here
 * and recorded in the cluster once it is back).
 */

export interface SingleUseClaim {
  /** What kind of item: `ots:<door>`, `rotating:<door>`, `spa`. Letters, digits, `:._-`. */
  scope: string;
  /** The item itself (a sequence's text, a digest). Stored hashed. */
  id: string;
  /** How long the "used" mark must last (ms); omitted or 0: for ever (one-time sequences). */
  ttlMs?: number;
}

export type SingleUseVerdict =
  /** First use: go ahead. `local`: no cluster; `failOpen`: the cluster was unreachable. */
  | { accept: true; how: 'claimed' | 'local' | 'failOpen'; detail?: string }
  /** Used before, by `node` (this one or another). */
  | { accept: false; why: 'used'; node: string }
  /** The cluster could not answer in time and Cluster_Fail = closed. */
  | { accept: false; why: 'unavailable'; detail: string };

export interface SingleUseStore {
  claim(claim: SingleUseClaim): Promise<SingleUseVerdict>;
  /**
   * Tells when an item was used on another node, so this one can move on (a one-time
   * door rotates to its next sequence). Returns the unsubscribe function.
   */
  onUsedElsewhere(listener: (scope: string, id: string, node: string) => void): () => void;
}

/** One node, no cluster: used items are remembered in memory (with their expiry). */
export class LocalSingleUseStore implements SingleUseStore {
  readonly #used = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  claim({ scope, id, ttlMs }: SingleUseClaim): Promise<SingleUseVerdict> {
    const key = `${scope}\0${id}`;
    const now = this.#now();
    const until = this.#used.get(key);
    if (until !== undefined && until > now)
      return Promise.resolve({ accept: false, why: 'used', node: 'this node' });
    this.#used.set(key, ttlMs ? now + ttlMs : Number.POSITIVE_INFINITY);
    if (this.#used.size > 100_000)
      for (const [k, u] of this.#used) if (u <= now) this.#used.delete(k);
    return Promise.resolve({ accept: true, how: 'local' });
  }

  onUsedElsewhere(): () => void {
    return () => undefined;
  }
}

/** A log line's end for a refused single-use knock. */
export function describeRefusal(verdict: Extract<SingleUseVerdict, { accept: false }>): string {
  return verdict.why === 'used'
    ? `already used on node ${verdict.node}: refused`
    : `the cluster store cannot answer (${verdict.detail}) and Cluster_Fail = closed: refused`;
}

/**
 * What a feature's own "used" store looks like (issue 11's UsedSequenceStore for rotating
 * doors has this shape): claim once, ask, flush.
 */
export interface FeatureUsedStore<K> {
  claim(key: K, keepUntilMs: number): boolean | Promise<boolean>;
  isUsed(key: K): boolean;
  flush(): Promise<void>;
}

/**
 * Puts a feature's local used-store behind the cluster's single-use store: a key is
 * accepted only if neither this node nor any other used it (the cluster's answer, or
 * Cluster_Fail, decides within 100 ms), and a use on another node is recorded locally
 * too, so `isUsed` (what the daemon plans with) knows it. `codec` maps a key to a scope
 * and id and back (ids other features publish in other scopes give undefined).
 *
 *   const used = sharedUsedStore(fileStore, cluster, {
 *     toClaim: (k) => ({ scope: `rotating:${k.door}`, id: `${k.secret} ${k.family} ${k.step}` }),
 *     fromClaim: (scope, id) => …,
 *   }, (text) => log.error('cluster', text));
 */
export function sharedUsedStore<K>(
  local: FeatureUsedStore<K>,
  cluster: SingleUseStore,
  codec: {
    toClaim: (key: K) => { scope: string; id: string };
    fromClaim: (scope: string, id: string) => K | undefined;
  },
  onRefused?: (text: string) => void,
  now: () => number = Date.now,
): FeatureUsedStore<K> & { close(): void } {
  const stop = cluster.onUsedElsewhere((scope, id) => {
    const key = codec.fromClaim(scope, id);
    // Kept as long as the local store keeps anything: a day is longer than any step.
    if (key !== undefined && !local.isUsed(key)) void local.claim(key, now() + 24 * 3600_000);
  });
  return {
    async claim(key, keepUntilMs) {
      if (!(await local.claim(key, keepUntilMs))) return false;
      const { scope, id } = codec.toClaim(key);
      const verdict = await cluster.claim({ scope, id, ttlMs: Math.max(1, keepUntilMs - now()) });
      if (!verdict.accept) onRefused?.(`${scope} ${id}: ${describeRefusal(verdict)}`);
      return verdict.accept;
    },
    isUsed: (key) => local.isUsed(key),
    flush: () => local.flush(),
    close: stop,
  };
}
