import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { probePort, verifyOpen, waitForOpen, type KnockProgress } from '@knock/shared/node';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) s.close();
});

async function listen(host = '127.0.0.1', port = 0, onSocket?: (s: Socket) => void) {
  const server = createServer(onSocket ?? ((s) => s.destroy()));
  servers.push(server);
  server.listen(port, host);
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** A port nothing listens on (bound once, then released). */
async function freePort(): Promise<number> {
  const { server, port } = await listen();
  server.close();
  await once(server, 'close');
  return port;
}

describe('probePort', () => {
  it('says open for a listening port and closed for a refused one', async () => {
    const { port } = await listen();
    await expect(probePort('127.0.0.1', port, { timeoutMs: 1000 })).resolves.toBe('open');
    const closed = await freePort();
    await expect(probePort('127.0.0.1', closed, { timeoutMs: 1000 })).resolves.toBe('closed');
  });
});

describe('waitForOpen', () => {
  it('notices a port that opens while it waits', async () => {
    const port = await freePort();
    const started = Date.now();
    setTimeout(() => void listen('127.0.0.1', port), 300);
    await expect(waitForOpen('127.0.0.1', port, { timeoutMs: 3000, intervalMs: 50 })).resolves.toBe(
      'open',
    );
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1500);
  });

  it('gives up after the timeout and says closed', async () => {
    const port = await freePort();
    const started = Date.now();
    await expect(waitForOpen('127.0.0.1', port, { timeoutMs: 400, intervalMs: 50 })).resolves.toBe(
      'closed',
    );
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1000);
  });
});

describe('verifyOpen', () => {
  // issue 9 item 8: a verify_timeout_ms from a profile file reaches here unchecked by the CLI.
  it.each([2 ** 31, 99_999_999_999, -1, Number.NaN, Infinity])(
    'refuses a wait of %s ms that Node timers cannot do',
    async (timeoutMs) => {
      await expect(
        verifyOpen({ addresses: ['127.0.0.1'], port: 9, timeoutMs }),
      ).rejects.toMatchObject({ code: 'knock.verifyTimeout', exitCode: 2 });
    },
  );

  it('once: one attempt, so a refused port is reported at once', async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await verifyOpen({
      addresses: ['127.0.0.1'],
      port,
      timeoutMs: 5000,
      once: true,
    });
    expect(result).toEqual({ state: 'closed' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reports verifying then open with the address that opened', async () => {
    const closedPort = await freePort();
    const { port } = await listen('127.0.0.1', closedPort);
    const events: KnockProgress[] = [];
    const result = await verifyOpen({
      addresses: ['::1', '127.0.0.1'],
      port,
      timeoutMs: 2000,
      intervalMs: 50,
      onEvent: (e) => events.push(e),
    });
    expect(result).toMatchObject({ state: 'open', address: '127.0.0.1' });
    expect(events.map((e) => e.type)).toEqual(['verifying', 'open']);
    expect(events[0]).toEqual({
      type: 'verifying',
      addresses: ['::1', '127.0.0.1'],
      port,
      timeoutMs: 2000,
    });
  });

  it('reports closed when nothing opens in time', async () => {
    const port = await freePort();
    const events: KnockProgress[] = [];
    const result = await verifyOpen({
      addresses: ['127.0.0.1'],
      port,
      timeoutMs: 300,
      intervalMs: 50,
      onEvent: (e) => events.push(e),
    });
    expect(result).toEqual({ state: 'closed' });
    expect(events.at(-1)).toEqual({
      type: 'closed',
      addresses: ['127.0.0.1'],
      port,
      state: 'closed',
      timeoutMs: 300,
    });
  });

  it('can hand over the connection it opened (for the ProxyCommand)', async () => {
    const { port } = await listen('127.0.0.1', 0, (s) => s.pipe(s));
    const result = await verifyOpen({
      addresses: ['127.0.0.1'],
      port,
      timeoutMs: 1000,
      keepSocket: true,
    });
    if (result.state !== 'open' || !result.socket) throw new Error('expected an open socket');
    const socket = result.socket;
    socket.write('ping');
    const [data] = (await once(socket, 'data')) as [Buffer];
    expect(data.toString()).toBe('ping');
    socket.destroy();
  });
});
