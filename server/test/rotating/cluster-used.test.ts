import { describe, expect, it } from 'vitest';
import { deriveSequence, parseSecret, rotatingSpec, stepAt } from '@knock/shared';
import type {
  SingleUseClaim,
  SingleUseStore,
  SingleUseVerdict,
} from '../../src/cluster/single-use.js';

import { clusterCodec, clusterUsedStore } from '../../src/rotating/state.js';
import { MemoryUsedStore, type UsedKey } from '../../src/rotating/used-store.js';
import { FakeClock, MemoryLog, config, fakeDaemon, flush } from '../daemon/fakes.js';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const TEXT = `
[ssh]
  Sequence_Secret = ${SECRET}
  Seq_Timeout = 10
  Open_Ports = 22/tcp
`;

/** One Redis for every node: the first claim of an id wins, the others hear of it. */
class FakeRedis {
  readonly used = new Map<string, string>();
  readonly nodes: FakeNode[] = [];
  /** Set: Redis does not answer (the verdict Cluster_Fail = closed gives). */
  down: string | undefined;
}

class FakeNode implements SingleUseStore {
  readonly claims: SingleUseClaim[] = [];
  readonly #listeners = new Set<(scope: string, id: string, node: string) => void>();
  constructor(
    readonly redis: FakeRedis,
    readonly name: string,
  ) {
    redis.nodes.push(this);
  }
  claim(claim: SingleUseClaim): Promise<SingleUseVerdict> {
    this.claims.push(claim);
    if (this.redis.down !== undefined)
      return Promise.resolve({ accept: false, why: 'unavailable', detail: this.redis.down });
    const key = `${claim.scope}:${claim.id}`;
    const holder = this.redis.used.get(key);
    if (holder !== undefined) return Promise.resolve({ accept: false, why: 'used', node: holder });
    this.redis.used.set(key, this.name);
    for (const other of this.redis.nodes)
      if (other !== this) for (const l of other.#listeners) l(claim.scope, claim.id, this.name);
    return Promise.resolve({ accept: true, how: 'claimed' });
  }
  onUsedElsewhere(listener: (scope: string, id: string, node: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** A daemon with a rotating door, its used store behind `cluster` as run.ts puts it. */
function node(cluster: SingleUseStore, clock: FakeClock) {
  const memory = new MemoryLog();
  const log = memory.logger();
  const local = new MemoryUsedStore(() => clock.now());
  const usedStore = clusterUsedStore(local, cluster, log, () => clock.now());
  const t = fakeDaemon(TEXT, { log, usedStore }, clock);
  const send = async (src: string, ports: number[]) => {
    t.send(src, ...ports);
    await flush();
  };
  return {
    daemon: t.daemon,
    local,
    memory,
    send,
    opened: () => t.actions.opened.map((o) => o.src),
  };
}

const sequence = (clock: FakeClock, family: 4 | 6 = 4) =>
  deriveSequence(
    rotatingSpec('ssh', { ...config(TEXT).doors[0]!.rotating! }, parseSecret(SECRET).secret!),
    family,
    stepAt(clock.now(), 30),
  ).map((k) => k.port);

describe('rotating doors in a cluster (Cluster =): single use across nodes', () => {
  it('a sequence opened on node a is refused on node b, from any address, and b says why', async () => {
    const redis = new FakeRedis();
    const clock = new FakeClock();
    const a = node(new FakeNode(redis, 'a'), clock);
    const b = node(new FakeNode(redis, 'b'), clock);
    await a.daemon.start();
    await b.daemon.start();
    const used = sequence(clock);
    await a.send('192.0.2.1', used);
    expect(a.opened()).toEqual(['192.0.2.1']);
    // b heard of the use: its own store (what it plans with, what it keeps on disk) has it.
    expect(b.local.list().map((e) => e.key)).toEqual([
      {
        door: 'ssh',
        secret: expect.any(String) as string,
        family: 4,
        step: stepAt(clock.now(), 30),
      },
    ]);
    await b.send('198.51.100.7', used);
    await b.send('192.0.2.1', used);
    expect(b.opened()).toEqual([]);
    // The other family's sequence is its own: it still opens, on b.
    await b.send('2001:db8::7', sequence(clock, 6));
    expect(b.opened()).toEqual(['2001:db8::7']);
    expect(redis.used.size).toBe(2);
    await a.daemon.stop();
    await b.daemon.stop();
  });

  it('a use b did not hear of (a message lost) is still refused: Redis decides', async () => {
    const redis = new FakeRedis();
    const clock = new FakeClock();
    const a = node(new FakeNode(redis, 'a'), clock);
    const lonely = new FakeNode(redis, 'b');
    lonely.onUsedElsewhere = () => () => undefined; // hears nothing
    const b = node(lonely, clock);
    await a.daemon.start();
    await b.daemon.start();
    await a.send('192.0.2.1', sequence(clock));
    await b.send('198.51.100.7', sequence(clock));
    expect(b.opened()).toEqual([]);
    expect(b.memory.messages).toContainEqual(
      expect.stringMatching(/^rotating sequence rotating .*: already used on node a: refused$/),
    );
    expect(b.memory.messages.at(-1)).toMatch(/ssh: sequence of step \d+, IPv4 already used/);
    await a.daemon.stop();
    await b.daemon.stop();
  });

  it('Redis unreachable with Cluster_Fail = closed: the knock does not open, and the log says so', async () => {
    const redis = new FakeRedis();
    redis.down = 'no answer within 100 ms';
    const clock = new FakeClock();
    const b = node(new FakeNode(redis, 'b'), clock);
    await b.daemon.start();
    await b.send('192.0.2.1', sequence(clock));
    expect(b.opened()).toEqual([]);
    expect(b.memory.messages).toContainEqual(
      expect.stringMatching(/cannot answer \(no answer within 100 ms\) and Cluster_Fail = closed/),
    );
    await b.daemon.stop();
  });

  it('the claim id carries any door name and only the secret fingerprint; other ids are ignored', () => {
    const key: UsedKey = { door: 'ssh "main", 2', secret: 'f00d', family: 6, step: 59_000_000 };
    const { scope, id } = clusterCodec.toClaim(key);
    expect(scope).toMatch(/^[A-Za-z0-9:._-]+$/);
    expect(clusterCodec.fromClaim(scope, id)).toEqual(key);
    expect(clusterCodec.fromClaim('ots:ssh', id)).toBeUndefined();
    for (const bad of ['', '7000,8000', '["ssh","f",5,1]', '["ssh","f",4,1.5]', '{"door":1}'])
      expect(clusterCodec.fromClaim(scope, bad), bad).toBeUndefined();
  });
});
