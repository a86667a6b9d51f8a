// The knock service's verify-only and close modes (the TUI's v and c, the tray's Close).
import type { Knock, Profile } from '@knock/shared';
import { createKnockService, type KnockDeps } from '@knock/shared/node';
import { describe, expect, it } from 'vitest';
import { lab, maths } from '../helpers/ui-fakes.js';

function fakePorts(open = true) {
  const calls: string[] = [];
  const ports: KnockDeps = {
    resolveTargets: async (host, family) => {
      calls.push(`resolve ${host} ${family}`);
      return ['192.0.2.2'];
    },
    sendKnocks: async ({ knocks }) => {
      calls.push(`send ${knocks.map((k) => k.port).join(',')}`);
    },
    verifyOpen: async ({ port, timeoutMs }) => {
      calls.push(`verify :${port} ${timeoutMs}ms`);
      return open
        ? { state: 'open', address: '192.0.2.2', elapsedMs: 1 }
        : { state: 'closed', elapsedMs: 1 };
    },
    takeOneTimeSequence: async (path, use) => {
      calls.push(`take ${path}`);
      const used: Knock[] = [{ port: 1, protocol: 'tcp' }];
      await use(used);
      return { used, remaining: 1 };
    },
  };
  return { ports, calls };
}

const closing: Profile = { ...maths, closeSequence: [{ port: 9000, protocol: 'tcp' }] };

describe('createKnockService modes', () => {
  it('verify: probes the port without knocking, briefly', async () => {
    const { ports, calls } = fakePorts(false);
    const outcome = await createKnockService(ports).knock(maths, () => undefined, {
      mode: 'verify',
    });
    expect(calls).toEqual(['resolve ssh.maths.fr any', 'verify :22 2000ms']);
    expect(outcome).toMatchObject({ status: 'closed', port: 22 });
  });

  it('verify without a port says so', async () => {
    const { ports } = fakePorts();
    const { port: _, ...noPort } = maths;
    const outcome = await createKnockService(ports).knock(noPort, () => undefined, {
      mode: 'verify',
    });
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: 'the profile for ssh.maths.fr has no port to verify',
    });
  });

  it('close: knocks the close sequence (never the one-time file), nothing to verify', async () => {
    const { ports, calls } = fakePorts();
    const outcome = await createKnockService(ports).knock(closing, () => undefined, {
      mode: 'close',
    });
    expect(calls).toEqual(['resolve ssh.maths.fr any', 'send 9000']);
    expect(outcome).toEqual({ status: 'sent', addresses: ['192.0.2.2'] });
    const ots = await createKnockService(ports).knock(
      { ...lab, closeSequence: [{ port: 9001, protocol: 'udp' }] },
      () => undefined,
      { mode: 'close' },
    );
    expect(ots.status).toBe('sent');
    expect(calls.some((c) => c.startsWith('take'))).toBe(false);
  });

  it('close without close_sequence fails with what is missing, sending nothing', async () => {
    const { ports, calls } = fakePorts();
    const outcome = await createKnockService(ports).knock(maths, () => undefined, {
      mode: 'close',
    });
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: 'the profile for ssh.maths.fr has no close_sequence',
    });
    expect(calls).toEqual([]);
  });
});
