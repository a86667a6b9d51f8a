import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, KnockError, type Knock } from '@knock/shared';
import {
  networkError,
  nodeTransport,
  sendKnocks,
  type KnockProgress,
  type Transport,
} from '@knock/shared/node';

type Call = {
  kind: 'tcp' | 'udp' | 'sleep';
  address?: string;
  port?: number;
  payload?: number[];
  ms?: number;
};

/** A transport that records every packet; `fail` makes an address throw an errno error. */
function recorder(fail: Record<string, string> = {}) {
  const calls: Call[] = [];
  const check = (address: string) => {
    const code = fail[address];
    if (code) throw Object.assign(new Error(`connect ${code} ${address}`), { code });
  };
  const transport: Transport = {
    tcp: async (address, port) => {
      check(address);
      calls.push({ kind: 'tcp', address, port });
    },
    udp: async (address, port, payload) => {
      check(address);
      calls.push({ kind: 'udp', address, port, payload: [...payload] });
    },
  };
  const sleep = async (ms: number) => {
    calls.push({ kind: 'sleep', ms });
  };
  return { calls, transport, sleep };
}

const seq: Knock[] = [
  { port: 1228, protocol: 'tcp' },
  { port: 7000, protocol: 'udp' },
  { port: 1227, protocol: 'tcp' },
];

describe('sendKnocks', () => {
  it('sends one packet per knock, in order, UDP with the 1-byte zero payload', async () => {
    const { calls, transport, sleep } = recorder();
    await sendKnocks({ addresses: ['192.0.2.2'], knocks: seq, transport, sleep });
    expect(calls).toEqual([
      { kind: 'tcp', address: '192.0.2.2', port: 1228 },
      { kind: 'udp', address: '192.0.2.2', port: 7000, payload: [0] },
      { kind: 'tcp', address: '192.0.2.2', port: 1227 },
    ]);
  });

  // issue 9 item 8: a delay from a profile file reaches the sender without the CLI's check.
  it.each([99_999_999_999, 2 ** 31, -1, 1.5, Number.NaN, Infinity])(
    'refuses a delay of %s ms before the first packet (no TimeoutOverflowWarning)',
    async (delayMs) => {
      const { calls, transport, sleep } = recorder();
      const error = await sendKnocks({
        addresses: ['192.0.2.2'],
        knocks: seq,
        delayMs,
        transport,
        sleep,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KnockError);
      expect(error).toMatchObject({ code: 'knock.delay', exitCode: ExitCode.usage });
      expect(calls).toEqual([]);
    },
  );

  it.each([0, 70000, 1.5, Number.NaN])('refuses to knock port %s', async (port) => {
    const { calls, transport, sleep } = recorder();
    const error = await sendKnocks({
      addresses: ['192.0.2.2'],
      knocks: [
        { port: 1228, protocol: 'tcp' },
        { port, protocol: 'udp' },
      ],
      transport,
      sleep,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'knock.port', exitCode: ExitCode.usage });
    expect(calls).toEqual([]);
  });

  it('pauses after every knock, the last one included, like knockd -d', async () => {
    const { calls, transport, sleep } = recorder();
    await sendKnocks({ addresses: ['192.0.2.2'], knocks: seq, delayMs: 250, transport, sleep });
    expect(calls.map((c) => (c.kind === 'sleep' ? `sleep ${c.ms}` : c.port))).toEqual([
      1228,
      'sleep 250',
      7000,
      'sleep 250',
      1227,
      'sleep 250',
    ]);
  });

  it('knocks the whole sequence on each address in turn', async () => {
    const { calls, transport, sleep } = recorder();
    await sendKnocks({
      addresses: ['2001:db8::2', '192.0.2.2'],
      knocks: seq,
      transport,
      sleep,
    });
    expect(calls.map((c) => `${c.address} ${c.port}`)).toEqual([
      '2001:db8::2 1228',
      '2001:db8::2 7000',
      '2001:db8::2 1227',
      '192.0.2.2 1228',
      '192.0.2.2 7000',
      '192.0.2.2 1227',
    ]);
  });

  it('reports each knock sent as an event', async () => {
    const { transport, sleep } = recorder();
    const events: KnockProgress[] = [];
    await sendKnocks({
      addresses: ['192.0.2.2'],
      knocks: seq.slice(0, 2),
      transport,
      sleep,
      onEvent: (e) => events.push(e),
    });
    expect(events).toEqual([
      { type: 'knock', address: '192.0.2.2', knock: seq[0], index: 0, count: 2 },
      { type: 'knock', address: '192.0.2.2', knock: seq[1], index: 1, count: 2 },
    ]);
  });

  it('with one address, a network error is ExitCode.network naming address and port', async () => {
    const { transport, sleep } = recorder({ '192.0.2.99': 'ENETUNREACH' });
    const error = await sendKnocks({
      addresses: ['192.0.2.99'],
      knocks: seq,
      transport,
      sleep,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KnockError);
    expect((error as KnockError).exitCode).toBe(ExitCode.network);
    expect((error as KnockError).message).toBe(
      'cannot send to 192.0.2.99:1228: network unreachable (no route) (ENETUNREACH)',
    );
  });

  it('skips an unreachable address and knocks the others, with an event', async () => {
    const { calls, transport, sleep } = recorder({ '2001:db8::2': 'ENETUNREACH' });
    const events: KnockProgress[] = [];
    await sendKnocks({
      addresses: ['2001:db8::2', '192.0.2.2'],
      knocks: seq,
      transport,
      sleep,
      onEvent: (e) => events.push(e),
    });
    expect(calls.map((c) => c.address)).toEqual(['192.0.2.2', '192.0.2.2', '192.0.2.2']);
    expect(events[0]).toMatchObject({ type: 'unreachable', address: '2001:db8::2' });
    expect(events.filter((e) => e.type === 'knock')).toHaveLength(3);
  });

  it('fails when every address is unreachable', async () => {
    const { transport, sleep } = recorder({ a: 'EHOSTUNREACH', b: 'ENETUNREACH' });
    await expect(
      sendKnocks({ addresses: ['a', 'b'], knocks: seq, transport, sleep }),
    ).rejects.toMatchObject({
      exitCode: ExitCode.network,
      message: expect.stringContaining('a:1228'),
    });
  });

  it('rethrows an error that is not a network error (a bug, not a bad network)', async () => {
    const { transport, sleep } = recorder({ '192.0.2.2': 'EINVAL' });
    await expect(
      sendKnocks({ addresses: ['192.0.2.2', '192.0.2.3'], knocks: seq, transport, sleep }),
    ).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('stops between knocks when aborted', async () => {
    const { calls, transport } = recorder();
    const abort = new AbortController();
    const run = sendKnocks({
      addresses: ['192.0.2.2'],
      knocks: seq,
      delayMs: 10_000,
      transport,
      signal: abort.signal,
    });
    await new Promise((r) => setTimeout(r, 20));
    abort.abort(new Error('cancelled'));
    await expect(run).rejects.toThrow('cancelled');
    expect(calls).toHaveLength(1);
  });
});

describe('networkError', () => {
  it.each([
    ['EHOSTUNREACH', 'no route to host'],
    ['ENETUNREACH', 'network unreachable'],
    ['EPERM', 'refused by the local firewall'],
  ])('%s is ExitCode.network', (code, text) => {
    const error = networkError({ code }, '2001:db8::2', 22);
    expect(error?.exitCode).toBe(ExitCode.network);
    expect(error?.message).toContain(`[2001:db8::2]:22: ${text}`);
  });

  it('leaves other errors alone', () => {
    expect(networkError({ code: 'ECONNREFUSED' }, '192.0.2.2', 22)).toBeUndefined();
    expect(networkError(new Error('x'), '192.0.2.2', 22)).toBeUndefined();
  });
});

describe('nodeTransport (loopback)', () => {
  const servers: { close: () => void }[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  it('a UDP knock is one datagram carrying one zero byte', async () => {
    const server = createSocket('udp4');
    servers.push(server);
    server.bind(0, '127.0.0.1');
    await once(server, 'listening');
    const received = once(server, 'message') as Promise<[Buffer]>;
    await nodeTransport().udp('127.0.0.1', server.address().port, Uint8Array.of(0));
    const [message] = await received;
    expect([...message]).toEqual([0]);
  });

  it('a TCP knock reaches a listening port (one connection)', async () => {
    const server: Server = createServer((socket) => socket.destroy());
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const accepted = once(server, 'connection');
    await nodeTransport().tcp('127.0.0.1', port);
    await accepted;
  });

  it('a TCP knock to a closed port is no error (the RST is expected)', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    server.close();
    await expect(nodeTransport().tcp('127.0.0.1', port)).resolves.toBeUndefined();
    // Several in a row: each is its own socket, none waits for the previous one to close.
    await sendKnocks({
      addresses: ['127.0.0.1'],
      knocks: [port, port, port].map((p) => ({ port: p, protocol: 'tcp' as const })),
    });
  });

  it('a knock to an address this machine cannot send from fails as a network error', async () => {
    // 0.0.0.0 as a UDP destination is fine on Linux; a multicast-range TCP destination is not.
    const error = await sendKnocks({
      addresses: ['224.0.0.1'],
      knocks: [{ port: 1, protocol: 'tcp' }],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KnockError);
    expect((error as KnockError).exitCode).toBe(ExitCode.network);
  });
});
