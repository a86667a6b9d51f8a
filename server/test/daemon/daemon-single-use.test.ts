/**
 * The daemon with a single-use store (a cluster): a one-time door opens only when the
 * store says the sequence is unused; a refusal is logged; another node's use moves the
 * door to its next sequence.
 */
import { describe, expect, it } from 'vitest';

import type {
  SingleUseClaim,
  SingleUseStore,
  SingleUseVerdict,
} from '../../src/cluster/single-use.js';
import { fakeDaemon, flush } from './fakes.js';

const OTS = `
[otp]
  one_time_sequences = /etc/knockd/otp
  command = open %IP%
`;

class FakeStore implements SingleUseStore {
  claims: SingleUseClaim[] = [];
  verdict: SingleUseVerdict = { accept: true, how: 'claimed' };
  listener: ((scope: string, id: string, node: string) => void) | undefined;
  claim(claim: SingleUseClaim): Promise<SingleUseVerdict> {
    this.claims.push(claim);
    return Promise.resolve(this.verdict);
  }
  onUsedElsewhere(listener: (scope: string, id: string, node: string) => void): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
}

function setup() {
  const store = new FakeStore();
  const t = fakeDaemon(OTS, { singleUse: store });
  t.ots.files.set('/etc/knockd/otp', ['1001,1002', '2001,2002', '3001,3002']);
  return { ...t, store };
}

describe('Daemon with a single-use store', () => {
  it('claims the sequence under the door, then opens', async () => {
    const t = setup();
    await t.daemon.start();
    t.send('192.0.2.1', 1001, 1002);
    await flush();
    expect(t.store.claims).toEqual([{ scope: 'ots:otp', id: '1001,1002' }]);
    expect(t.actions.opened.map((o) => o.src)).toEqual(['192.0.2.1']);
    expect(t.ots.consumed).toEqual(['1001,1002']);
  });

  it('refuses a sequence used on another node, and logs why; the door still rotates', async () => {
    const t = setup();
    t.store.verdict = { accept: false, why: 'used', node: 'bastion-b' };
    await t.daemon.start();
    t.send('192.0.2.1', 1001, 1002);
    await flush();
    expect(t.actions.opened).toEqual([]);
    expect(t.memory.messages).toContain(
      '192.0.2.1: otp: one time sequence already used on node bastion-b: refused',
    );
    expect(t.capture.source.filters.at(-1)).toContain('2001/tcp,2002/tcp');
  });

  it('refuses when the store cannot answer and Cluster_Fail = closed; accepts and says so when open', async () => {
    const t = setup();
    t.store.verdict = { accept: false, why: 'unavailable', detail: 'no answer within 100 ms' };
    await t.daemon.start();
    t.send('192.0.2.1', 1001, 1002);
    await flush();
    expect(t.actions.opened).toEqual([]);
    expect(t.memory.messages.at(-1)).toBe(
      '192.0.2.1: otp: one time sequence the cluster store cannot answer (no answer within 100 ms) and Cluster_Fail = closed: refused',
    );
    t.store.verdict = { accept: true, how: 'failOpen', detail: 'the cluster store is unreachable' };
    t.send('192.0.2.1', 2001, 2002);
    await flush();
    expect(t.actions.opened.map((o) => o.src)).toEqual(['192.0.2.1']);
    expect(t.memory.messages.join('\n')).toMatch(
      /Cluster_Fail = open: one time sequence accepted on this node only/,
    );
  });

  it("another node's use of the current sequence moves the door on; the used one opens nothing here", async () => {
    const t = setup();
    await t.daemon.start();
    t.store.listener?.('ots:otp', '1001,1002', 'bastion-b');
    await flush();
    expect(t.ots.consumed).toEqual(['1001,1002']);
    expect(t.capture.source.filters.at(-1)).toContain('2001/tcp,2002/tcp');
    expect(t.memory.messages).toContain(
      'otp: one time sequence 1001,1002 was used on node bastion-b: moving to the next one',
    );
    t.send('192.0.2.1', 1001, 1002);
    await flush();
    expect(t.actions.opened).toEqual([]);
    // A later line used elsewhere is marked too; the current sequence stays.
    t.store.listener?.('ots:otp', '3001,3002', 'bastion-c');
    await flush();
    expect(t.ots.consumed).toEqual(['1001,1002', '3001,3002']);
    t.send('192.0.2.1', 2001, 2002);
    await flush();
    expect(t.actions.opened.map((o) => o.src)).toEqual(['192.0.2.1']);
    // ... and other scopes or unknown doors are not ours.
    t.store.listener?.('rotating:otp', '1,2', 'x');
    t.store.listener?.('ots:nope', '1,2', 'x');
    await flush();
    expect(t.ots.consumed).toHaveLength(3);
  });
});
