import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from '@knock/shared';
import { verifyOpen } from '@knock/shared/node';
import { fake, profile, run, tcp } from '../helpers/fake-deps.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** An echo server on loopback that upper-cases, and ends when the client ends. */
async function upperEcho(): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()));
    socket.on('end', () => socket.end('BYE'));
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

describe('knock proxy', () => {
  it('knocks the profile, then relays stdin/stdout over the connection, half-closing', async () => {
    const port = await upperEcho();
    const f = fake({
      profiles: [profile('lab.test', { sequence: [tcp(1228)] })],
      addresses: { 'lab.test': ['127.0.0.1'] },
    });
    f.deps.verifyOpen = (options) => {
      f.verifies.push(options);
      return verifyOpen(options);
    };
    const input = new PassThrough();
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (d: Buffer) => chunks.push(d));
    f.deps.relayStreams = () => ({ input, output });
    input.end('hello');
    const { code, stderr } = await run(['proxy', 'lab.test', String(port)], f);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(f.sends[0]?.knocks).toEqual([tcp(1228)]);
    expect(f.verifies[0]).toMatchObject({ port, keepSocket: true, allowHalfOpen: true });
    expect(Buffer.concat(chunks).toString()).toBe('HELLOBYE');
    expect(output.writableEnded).toBe(true);
  });

  it('without a profile it connects without knocking (-v says so, on stderr only)', async () => {
    const port = await upperEcho();
    const f = fake({ addresses: { plain: ['127.0.0.1'] } });
    f.deps.verifyOpen = verifyOpen;
    const input = new PassThrough();
    const output = new PassThrough();
    f.deps.relayStreams = () => ({ input, output });
    input.end('x');
    const { code, stdout, stderr } = await run(['proxy', '-v', 'plain', String(port)], f);
    expect(code).toBe(0);
    expect(f.sends).toEqual([]);
    expect(stdout).toBe('');
    expect(stderr).toContain('no profile for "plain": connecting without knocking');
    expect(stderr).toContain(`port ${port} is open on 127.0.0.1`);
  });

  it('a port that stays closed: exit 7, message on stderr even without -v', async () => {
    const { code, stdout, stderr } = await run(['proxy', 'lab.test', '22'], {
      profiles: [profile('lab.test', { sequence: [tcp(1228)], verifyTimeoutMs: 2000 })],
      verify: { state: 'timeout' },
    });
    expect(code).toBe(ExitCode.closed);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'knocked lab.test, but 192.0.2.2:22 is still closed after 2 s (no answer)',
    );
  });

  it('--sequence, -4, --timeout', async () => {
    const { f } = await run(['proxy', '--sequence', '5,6', '-4', '--timeout', '1', 'h', '22'], {
      verify: { state: 'closed' },
    });
    expect(f.sends[0]?.knocks).toEqual([tcp(5), tcp(6)]);
    expect(f.resolves[0]).toEqual({ host: 'h', family: 'ipv4' });
    expect(f.verifies[0]?.timeoutMs).toBe(1000);
  });

  it.each([
    [['proxy', 'h'], "missing required argument 'port'"],
    [['proxy', 'h', 'ssh'], 'knock proxy: "ssh" is not a port'],
    [['proxy', 'h', '0'], 'knock proxy: "0" is not a port'],
  ])('%j is a usage error', async (argv, message) => {
    const { code, stderr } = await run(argv);
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toContain(message);
  });
});
