import { describe, expect, it } from 'vitest';

import { type ClusterHealth, type DaemonDeps } from '../../src/daemon/daemon.js';
import { statusDocument } from '../../src/control/operations.js';
import { renderStatus } from '../../src/control/protocol.js';
import { fakeDaemon } from './fakes.js';

const CONF = `
[ssh]
  sequence    = 7000,8000,9000
  seq_timeout = 5
  command     = open %IP%

[quick]
  sequence    = 6000
  command     = quick %IP%

[otp]
  one_time_sequences = /etc/knock/otp
  command            = otp %IP%
`;

function setup(text = CONF, extra: Partial<DaemonDeps> = {}) {
  const t = fakeDaemon(text, extra);
  t.ots.files.set('/etc/knock/otp', ['5001,5002', '5003,5004']);
  return t;
}

describe('Daemon: counters for status and metrics', () => {
  it('counts packets, knocks by stage, opens, timeouts and wrong knocks per door', async () => {
    const t = setup();
    await t.daemon.start();
    t.send('192.0.2.1', 7000, 8000, 9000); // open
    t.send('192.0.2.3', 6000); // one-step open
    t.send('192.0.2.4', 7000, 9000); // wrong knock after stage 1
    t.send('192.0.2.5', 7000, 8000); // left to time out
    await t.clock.advance(200);
    t.send('192.0.2.6', 7000);
    const snapshot = t.daemon.snapshot();
    expect(snapshot.attempts.inProgress).toBe(2);
    expect(snapshot.doors.find((d) => d.name === 'ssh')?.inProgress).toBe(2);
    await t.clock.advance(6000);
    const stats = t.daemon.stats;
    expect(stats.packets).toBe(9);
    expect(stats.doors.get('ssh')).toMatchObject({
      knocks: [4, 2, 1],
      opens: 1,
      timeouts: 2,
      wrongKnocks: 1,
    });
    expect(stats.doors.get('quick')).toMatchObject({ knocks: [1], opens: 1, timeouts: 0 });
    expect(stats.openSeconds.count).toBe(2);
    expect(t.daemon.snapshot().attempts.inProgress).toBe(0);
  });

  it('refreshes the per-door attempt counts at most every second; the total at once', async () => {
    const t = setup();
    await t.daemon.start();
    t.send('192.0.2.1', 7000);
    expect(t.daemon.snapshot().doors[0]?.inProgress).toBe(1);
    t.send('192.0.2.2', 7000);
    const cached = t.daemon.snapshot();
    expect(cached.attempts.inProgress).toBe(2);
    expect(cached.doors[0]?.inProgress).toBe(1);
    await t.clock.advance(1000);
    expect(t.daemon.snapshot().doors[0]?.inProgress).toBe(2);
  });

  it('records the first-knock-to-open time in the histogram', async () => {
    const t = setup();
    await t.daemon.start();
    t.send('192.0.2.1', 7000);
    await t.clock.advance(1500);
    t.send('192.0.2.1', 8000, 9000);
    const h = t.daemon.stats.openSeconds;
    expect(h.count).toBe(1);
    expect(h.sum).toBeCloseTo(1.5, 3);
    // 1.5 s lands in the (1, 2.5] bucket
    expect(h.counts[h.bounds.indexOf(2.5)]).toBe(1);
  });

  it('keeps the outcome of every reload: a bad config is counted and explained', async () => {
    const t = setup();
    await t.daemon.start();
    t.setConfig(`${CONF}\n[broken]\n  sequence = 1:icmp\n`);
    await t.clock.advance(1000);
    await t.daemon.reload();
    expect(t.daemon.stats).toMatchObject({ reloadsOk: 0, reloadsFailed: 1 });
    expect(t.daemon.stats.lastReload).toMatchObject({ ok: false, at: t.clock.now() });
    expect(t.daemon.stats.lastReload?.message).toMatch(/1 error in the config \(first: .*icmp/);
    const loadedAt = t.daemon.stats.configLoadedAt;
    t.setConfig(CONF);
    await t.clock.advance(1000);
    await t.daemon.reload();
    expect(t.daemon.stats).toMatchObject({ reloadsOk: 1, reloadsFailed: 1 });
    expect(t.daemon.stats.lastReload).toMatchObject({ ok: true, message: '3 doors loaded' });
    expect(t.daemon.stats.configLoadedAt).toBe(t.clock.now());
    expect(loadedAt).toBe(t.clock.now() - 2000);
  });

  it('shows doors (one-time sequences left), interfaces and a lost capture', async () => {
    const t = setup();
    t.capture.reopenable = true;
    await t.daemon.start();
    expect(t.daemon.snapshot().doors).toEqual([
      { name: 'ssh', sequence: '7000,8000,9000', state: 'armed', inProgress: 0 },
      { name: 'quick', sequence: '6000', state: 'armed', inProgress: 0 },
      {
        name: 'otp',
        sequence: '5001,5002',
        oneTimeSequences: { file: '/etc/knock/otp', remaining: 2 },
        state: 'armed',
        inProgress: 0,
      },
    ]);
    t.send('192.0.2.1', 5001, 5002);
    await t.clock.advance(10);
    expect(t.daemon.snapshot().doors[2]).toMatchObject({
      sequence: '5003,5004',
      oneTimeSequences: { remaining: 1 },
      state: 'armed',
    });
    expect(t.daemon.snapshot().interfaces).toEqual([{ name: 'vs0', capturing: true }]);
    (t.capture.source as unknown as { failInterface(n: string, e: Error): void }).failInterface(
      'vs0',
      new Error('interface went away'),
    );
    const lost = t.daemon.snapshot();
    expect(lost.interfaces).toEqual([{ name: 'vs0', capturing: false }]);
    expect(lost.captureLost).toBe(true);
    await t.clock.advance(1000);
    expect(t.daemon.snapshot().interfaces).toEqual([{ name: 'vs0', capturing: true }]);
  });

  it('builds the status document and its human view', async () => {
    const t = setup();
    await t.daemon.start();
    t.send('192.0.2.1', 7000, 8000, 9000);
    const doc = statusDocument({
      daemon: t.daemon,
      actions: t.actions,
      log: t.log,
      version: '9.9.9',
    });
    expect(doc).toMatchObject({
      version: '9.9.9',
      pid: process.pid,
      config: { path: '/etc/knockd.conf', reloads: { ok: 0, failed: 0 } },
      packets: 3,
      pendingStops: { count: 0, first: [] },
      commands: { run: 0, failed: 0, killed: 0 },
    });
    expect(doc.doors[0]).toMatchObject({ name: 'ssh', knocks: [1, 1, 1], opens: 1 });
    const text = renderStatus(doc);
    expect(text).toMatch(/^knock-server 9\.9\.9, pid \d+, up /);
    expect(text).toMatch(/^ssh +7000,8000,9000 +armed +0 +1\/1\/1 +1 +0 +0$/m);
    expect(text).toMatch(/^otp +5001,5002 \(one-time, 2 left\) +armed/m);
    expect(text).toContain('reloads    0 ok, 0 failed\n');
  });

  it('a cluster node shows its store: reachable with the fan-out lag, or lost since when', async () => {
    let health: ClusterHealth = {
      url: 'redis://10.0.0.5:6379/0',
      node: 'gw-a',
      reachable: true,
      lagMs: 1.25,
      fail: 'closed',
    };
    const t = setup(CONF, { cluster: { health: () => health } });
    await t.daemon.start();
    const doc = () =>
      statusDocument({ daemon: t.daemon, actions: t.actions, log: t.log, version: '1' });
    expect(doc().cluster).toEqual(health);
    expect(renderStatus(doc())).toContain(
      'cluster    redis://10.0.0.5:6379/0 as node gw-a: reachable, fan-out 1.3 ms; knock-server cluster status shows every node\n',
    );
    health = { ...health, reachable: false, lostSince: Date.now() - 65_000, fail: 'closed' };
    expect(renderStatus(doc())).toMatch(
      /^cluster {4}redis:\/\/10\.0\.0\.5:6379\/0 as node gw-a: UNREACHABLE for 1m 5s \(knocks served here; one-time knocks refused\)/m,
    );
    expect(setup().daemon.snapshot().cluster).toBeUndefined();
    expect(
      renderStatus(
        statusDocument({ daemon: setup().daemon, actions: t.actions, log: t.log, version: '1' }),
      ),
    ).not.toContain('cluster ');
  });
});
