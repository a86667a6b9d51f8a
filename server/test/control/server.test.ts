import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, KnockError } from '@knock/shared';
import { request } from '../../src/control/client.js';
import { startControlServer, type ControlServer } from '../../src/control/server.js';
import type { Response, StatusDocument } from '../../src/control/protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'knock-control-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const socketPath = () => join(dir, `ctl-${++n}.sock`);
const servers: ControlServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

let renders = 0;
const fakeStatus = () => {
  renders++;
  return {
    ok: true,
    status: { version: 'test', packets: renders } as unknown as StatusDocument,
  } as const;
};

async function start(
  options: Partial<Parameters<typeof startControlServer>[0]> = {},
): Promise<ControlServer> {
  const server = await startControlServer({
    path: socketPath(),
    handlers: {
      status: fakeStatus,
      metrics: () => Promise.resolve({ ok: true, metrics: '# metrics\nx 1\n' }),
    },
    ...options,
  });
  servers.push(server);
  return server;
}

/** Sends raw bytes, returns everything the server sent until it closed. */
function raw(path: string, bytes: string, options: { end?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.on('connect', () => {
      if (options.end) socket.end(bytes);
      else socket.write(bytes);
    });
  });
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('control socket', () => {
  it('answers status and metrics, one JSON line each, and is 0600', async () => {
    const server = await start();
    expect(statSync(server.path).mode & 0o777).toBe(0o600);
    const status = (await request(server.path, 'status')) as Response & { ok: true };
    expect(status).toMatchObject({ ok: true, status: { version: 'test' } });
    expect(await request(server.path, 'metrics')).toEqual({
      ok: true,
      metrics: '# metrics\nx 1\n',
    });
    const line = await raw(server.path, '{"cmd":"status"}\r\n');
    expect(line.endsWith('\n')).toBe(true);
    expect(line.split('\n')).toHaveLength(2);
  });

  it('renders a response at most once per cache period, however many ask', async () => {
    const server = await start({ cacheMs: 10_000 });
    const before = renders;
    await Promise.all(Array.from({ length: 20 }, () => request(server.path, 'status')));
    expect(renders - before).toBe(1);
  });

  it('answers garbage, unknown commands and oversized requests with an error, then closes', async () => {
    const server = await start();
    const answers = await Promise.all([
      raw(server.path, 'hello\n'),
      raw(server.path, '{"cmd":"reboot"}\n'),
      raw(server.path, '[1,2]\n'),
      raw(server.path, `${'x'.repeat(5000)}\n`),
      raw(server.path, '\0\xff\xfe garbage\n'),
    ]);
    const parsed = answers.map((a) => JSON.parse(a) as { ok: boolean; error: string });
    expect(parsed.every((p) => !p.ok)).toBe(true);
    expect(parsed[0]?.error).toMatch(/not a JSON request/);
    expect(parsed[1]?.error).toMatch(/unknown command "reboot"/);
    expect(parsed[2]?.error).toMatch(/no "cmd"/);
    expect(parsed[3]?.error).toMatch(/longer than 1024 bytes/);
    // still serving
    expect((await request(server.path, 'status')).ok).toBe(true);
  });

  it('drops a half-written request after the request timeout, and one cut short', async () => {
    const server = await start({ requestTimeoutMs: 200 });
    const started = Date.now();
    expect(await raw(server.path, '{"cmd":"sta')).toBe('');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await raw(server.path, '{"cmd":"sta', { end: true })).toBe('');
    // a request sent whole and the sending side closed (echo … | nc -U) is answered
    expect(JSON.parse(await raw(server.path, '{"cmd":"status"}\n', { end: true }))).toMatchObject({
      ok: true,
    });
    await until(() => server.connections === 0);
  });

  it('serves 100 clients at once', async () => {
    const server = await start({ cacheMs: 0 });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => request(server.path, i % 2 ? 'status' : 'metrics')),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    await until(() => server.connections === 0);
  });

  it('drops a client that never reads a large response, and serves the others meanwhile', async () => {
    const big = 'y'.repeat(8 * 1024 * 1024);
    const server = await start({
      lingerMs: 300,
      handlers: {
        status: fakeStatus,
        metrics: () => Promise.resolve({ ok: true, metrics: big }),
      },
    });
    const lazy: Socket[] = [];
    for (let i = 0; i < 5; i++) {
      const socket = createConnection(server.path);
      socket.on('error', () => undefined);
      socket.write('{"cmd":"metrics"}\n');
      socket.pause(); // never reads
      lazy.push(socket);
    }
    await until(() => server.connections === 5);
    const loopStart = Date.now();
    expect((await request(server.path, 'status')).ok).toBe(true);
    expect(Date.now() - loopStart).toBeLessThan(1000);
    await until(() => server.connections === 0, 5000);
    for (const s of lazy) s.destroy();
  });

  it('replaces a stale socket file, refuses a live one or a regular file, and removes its own', async () => {
    const path = socketPath();
    // a stale socket: its process was killed before it could remove it
    const owner = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(path)}); setInterval(() => {}, 1000)`,
    ]);
    await until(() => existsSync(path));
    owner.kill('SIGKILL');
    await new Promise((r) => owner.once('exit', r));
    expect(existsSync(path)).toBe(true);
    const server = await start({ path });
    expect((await request(path, 'status')).ok).toBe(true);

    await expect(start({ path })).rejects.toMatchObject({
      code: 'control.inUse',
      exitCode: ExitCode.alreadyRunning,
    });
    const file = join(dir, 'not-a-socket');
    writeFileSync(file, 'keep me');
    await expect(start({ path: file })).rejects.toMatchObject({ code: 'control.notSocket' });
    expect(existsSync(file)).toBe(true);
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    expect(existsSync(path)).toBe(false);
  });

  it('the client says clearly when no daemon listens', async () => {
    const path = join(dir, 'nobody-here.sock');
    const error = await request(path, 'status').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KnockError);
    expect(error).toMatchObject({ code: 'control.noDaemon', exitCode: ExitCode.failure });
    expect((error as Error).message).toBe(
      `no knock-server is running with the control socket ${path} (it does not exist)`,
    );
  });
});
