import { describe, expect, it } from 'vitest';
import {
  LocalSingleUseStore,
  sharedUsedStore,
  type FeatureUsedStore,
  type SingleUseClaim,
  type SingleUseStore,
  type SingleUseVerdict,
} from '../../src/cluster/single-use.js';

describe('LocalSingleUseStore', () => {
  it('accepts once, again after the ttl', async () => {
    let now = 1000;
    const store = new LocalSingleUseStore(() => now);
    expect(await store.claim({ scope: 's', id: 'x', ttlMs: 50 })).toEqual({
      accept: true,
      how: 'local',
    });
    expect(await store.claim({ scope: 's', id: 'x', ttlMs: 50 })).toMatchObject({
      accept: false,
      why: 'used',
    });
    expect(await store.claim({ scope: 't', id: 'x' })).toMatchObject({ accept: true });
    now += 51;
    expect(await store.claim({ scope: 's', id: 'x', ttlMs: 50 })).toMatchObject({ accept: true });
  });
});

/** A feature's store keyed by step numbers, as rotating doors key theirs. */
class StepStore implements FeatureUsedStore<number> {
  used = new Map<number, number>();
  claim(step: number, until: number): boolean {
    if (this.used.has(step)) return false;
    this.used.set(step, until);
    return true;
  }
  isUsed(step: number): boolean {
    return this.used.has(step);
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
}

class Cluster implements SingleUseStore {
  claims: SingleUseClaim[] = [];
  answer: SingleUseVerdict = { accept: true, how: 'claimed' };
  listener: ((scope: string, id: string, node: string) => void) | undefined;
  claim(c: SingleUseClaim): Promise<SingleUseVerdict> {
    this.claims.push(c);
    return Promise.resolve(this.answer);
  }
  onUsedElsewhere(listener: (scope: string, id: string, node: string) => void) {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
}

describe('sharedUsedStore', () => {
  const codec = {
    toClaim: (step: number) => ({ scope: 'rotating:ssh', id: String(step) }),
    fromClaim: (scope: string, id: string) => (scope === 'rotating:ssh' ? Number(id) : undefined),
  };

  it('a key opens once on this node and once in the cluster; the ttl is what is left', async () => {
    const local = new StepStore();
    const cluster = new Cluster();
    const shared = sharedUsedStore(local, cluster, codec, undefined, () => 1000);
    expect(await shared.claim(7, 61_000)).toBe(true);
    expect(cluster.claims).toEqual([{ scope: 'rotating:ssh', id: '7', ttlMs: 60_000 }]);
    expect(await shared.claim(7, 61_000)).toBe(false);
    expect(cluster.claims).toHaveLength(1);
  });

  it('refused when another node used it (said why), or when the cluster cannot answer (closed)', async () => {
    const cluster = new Cluster();
    const refused: string[] = [];
    const shared = sharedUsedStore(new StepStore(), cluster, codec, (t) => refused.push(t));
    cluster.answer = { accept: false, why: 'used', node: 'b' };
    expect(await shared.claim(8, Date.now() + 60_000)).toBe(false);
    cluster.answer = { accept: false, why: 'unavailable', detail: 'no answer within 100 ms' };
    expect(await shared.claim(9, Date.now() + 60_000)).toBe(false);
    expect(refused).toEqual([
      'rotating:ssh 8: already used on node b: refused',
      'rotating:ssh 9: the cluster store cannot answer (no answer within 100 ms) and Cluster_Fail = closed: refused',
    ]);
  });

  it("another node's use is recorded here (for planning); other scopes are not", () => {
    const local = new StepStore();
    const cluster = new Cluster();
    const shared = sharedUsedStore(local, cluster, codec);
    cluster.listener?.('rotating:ssh', '12', 'b');
    cluster.listener?.('ots:ssh', '1,2', 'b');
    expect(shared.isUsed(12)).toBe(true);
    expect([...local.used.keys()]).toEqual([12]);
    shared.close();
    expect(cluster.listener).toBeUndefined();
  });
});
