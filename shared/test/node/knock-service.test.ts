import type { Knock, Profile } from '@knock/shared';
import {
  createKnockService,
  resolveTargets,
  sendKnocks,
  takeOneTimeSequence,
  verifyOpen,
  type KnockPorts,
  type KnockServiceProgress,
} from '@knock/shared/node';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lab, maths } from '../helpers/ui-fakes.js';

/** Ports that record what they were asked; each can be replaced per test. */
function fakePorts(change: Partial<KnockPorts> = {}) {
  const calls: string[] = [];
  const ports: KnockPorts = {
    resolveTargets: async (host, family) => {
      calls.push(`resolve ${host} ${family}`);
      return ['192.0.2.2', '2001:db8::2'];
    },
    sendKnocks: async ({ addresses, knocks, delayMs, onEvent }) => {
      calls.push(`send ${knocks.map((k) => k.port).join(',')} delay ${delayMs}`);
      for (const address of addresses)
        for (const [index, knock] of knocks.entries())
          onEvent?.({ type: 'knock', address, knock, index, count: knocks.length });
    },
    verifyOpen: async ({ addresses, port, timeoutMs }) => {
      calls.push(`verify ${addresses.join(' ')} :${port} ${timeoutMs}ms`);
      return { state: 'open', address: '2001:db8::2', elapsedMs: 12 };
    },
    takeOneTimeSequence: async (path, use) => {
      calls.push(`take ${path}`);
      const used: Knock[] = [{ port: 4711, protocol: 'udp' }];
      await use(used);
      return { used, remaining: 9 };
    },
    ...change,
  };
  return { ports, calls };
}

async function knock(ports: KnockPorts, profile: Profile) {
  const events: KnockServiceProgress[] = [];
  const outcome = await createKnockService(ports).knock(profile, (e) => events.push(e));
  return { outcome, events };
}

describe('createKnockService', () => {
  it('resolves, knocks every address, then verifies the port on all of them', async () => {
    const { ports, calls } = fakePorts();
    const { outcome, events } = await knock(ports, { ...maths, delayMs: 50 });
    expect(calls).toEqual([
      'resolve ssh.maths.fr any',
      'send 1228,1227 delay 50',
      'verify 192.0.2.2 2001:db8::2 :22 5000ms',
    ]);
    // Each knock is reported once, although both addresses received it.
    expect(events).toEqual([
      { type: 'resolved', addresses: ['192.0.2.2', '2001:db8::2'] },
      { type: 'sent', knock: { port: 1228, protocol: 'tcp' }, index: 0, total: 2 },
      { type: 'sent', knock: { port: 1227, protocol: 'tcp' }, index: 1, total: 2 },
      { type: 'verifying', port: 22, addresses: ['192.0.2.2', '2001:db8::2'] },
      { type: 'open', address: '2001:db8::2', port: 22 },
    ]);
    expect(outcome).toEqual({ status: 'open', address: '2001:db8::2', port: 22 });
  });

  it('takes the next one-time sequence from the profile file', async () => {
    const { ports, calls } = fakePorts();
    const { events } = await knock(ports, lab);
    expect(calls).toContain(`take ${lab.oneTimeSequences}`);
    expect(calls).toContain('send 4711 delay 100');
    expect(events).toContainEqual({
      type: 'sent',
      knock: { port: 4711, protocol: 'udp' },
      index: 0,
      total: 1,
    });
  });

  // issue 9 item 9: the TUI and the tray read a relative one_time_sequences from the
  // profile file's folder too (they share knockHost with the command line).
  it("reads a relative one-time file from the profile file's folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'knock-service-'));
    try {
      writeFileSync(join(dir, 'lab.ots'), ' 4711:udp\n 4712\n');
      const { ports, calls } = fakePorts({ takeOneTimeSequence });
      const profile = { ...lab, oneTimeSequences: 'lab.ots' };
      const events: KnockServiceProgress[] = [];
      const outcome = await createKnockService(ports).knock(profile, (e) => events.push(e), {
        profileFile: join(dir, 'config.toml'),
      });
      expect(outcome.status).not.toBe('failed');
      expect(calls).toContain('send 4711 delay 100');
      expect(readFileSync(join(dir, 'lab.ots'), 'utf8')).toBe('#4711:udp\n 4712\n');
      // Without the profile file: the working directory, where there is no such file.
      const without = await createKnockService(ports).knock(profile, () => undefined);
      expect(without).toMatchObject({
        status: 'failed',
        reason: expect.stringContaining('one-time-sequence file lab.ots does not exist'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses the profile verify timeout, and says why the port stayed closed', async () => {
    const { ports } = fakePorts({ verifyOpen: async () => ({ state: 'closed' }) });
    const { outcome, events } = await knock(ports, { ...maths, verifyTimeoutMs: 1500 });
    const reason = 'port 22 did not open within 1.5 s (connection refused)';
    expect(outcome).toEqual({ status: 'closed', port: 22, reason });
    expect(events.at(-1)).toEqual({ type: 'closed', port: 22, reason });
    const dropped = await knock(
      fakePorts({ verifyOpen: async () => ({ state: 'timeout' }) }).ports,
      maths,
    );
    expect(dropped.outcome).toMatchObject({ reason: expect.stringContaining('no answer') });
  });

  it('does not verify when the profile has no port', async () => {
    const { ports, calls } = fakePorts();
    const { port: _, ...noPort } = maths;
    const { outcome } = await knock(ports, noPort);
    expect(outcome).toEqual({ status: 'sent', addresses: ['192.0.2.2', '2001:db8::2'] });
    expect(calls.some((c) => c.startsWith('verify'))).toBe(false);
  });

  it('turns a KnockError into a failed outcome with its message and exit code', async () => {
    const { KnockError, ExitCode } = await import('@knock/shared');
    const { ports } = fakePorts({
      resolveTargets: async () => {
        throw new KnockError('knock.resolve', 'ssh.maths.fr does not resolve', {
          exitCode: ExitCode.resolve,
          hint: 'check the name',
        });
      },
    });
    const { outcome } = await knock(ports, maths);
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'ssh.maths.fr does not resolve\n  hint: check the name',
      exitCode: ExitCode.resolve,
    });
  });

  it('reports an unreachable address and goes on', async () => {
    const { KnockError } = await import('@knock/shared');
    const { ports } = fakePorts({
      sendKnocks: async ({ onEvent }) => {
        onEvent?.({
          type: 'unreachable',
          address: '2001:db8::2',
          error: new KnockError('knock.network', 'no route to host'),
        });
      },
    });
    const { events } = await knock(ports, maths);
    expect(events).toContainEqual({
      type: 'unreachable',
      address: '2001:db8::2',
      reason: 'no route to host',
    });
  });
});

describe('createKnockService on loopback (real packets)', () => {
  let server: Server;
  let open: number;
  let closed: number;
  const knocks: Knock[] = [];
  beforeAll(async () => {
    server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open = (server.address() as { port: number }).port;
    // A port that was just free: knocking and probing it is refused at once.
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    closed = (spare.address() as { port: number }).port;
    await new Promise((resolve) => spare.close(resolve));
    knocks.push({ port: closed, protocol: 'tcp' }, { port: closed, protocol: 'udp' });
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const real: KnockPorts = {
    resolveTargets,
    sendKnocks,
    verifyOpen,
    takeOneTimeSequence: async () => {
      throw new Error('not used here');
    },
  };
  const profile = (port: number): Profile => ({
    host: '127.0.0.1',
    sequence: knocks,
    port,
    family: 'ipv4',
    delayMs: 0,
    verifyTimeoutMs: 1000,
  });

  it('knocks and finds the listening port open', async () => {
    const { outcome, events } = await knock(real, profile(open));
    expect(events.filter((e) => e.type === 'sent')).toHaveLength(2);
    expect(outcome).toEqual({ status: 'open', address: '127.0.0.1', port: open });
  });

  it('knocks and reports a port nobody listens on as refused', async () => {
    const { outcome } = await knock(real, profile(closed));
    expect(outcome).toEqual({
      status: 'closed',
      port: closed,
      reason: `port ${closed} did not open within 1 s (connection refused)`,
    });
  });
});
