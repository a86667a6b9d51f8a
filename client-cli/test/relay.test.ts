import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { connectOnce } from '@knock/shared/node';
import { relay } from '../src/relay.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(handler: (s: Socket) => void): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, handler);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

async function connect(port: number): Promise<Socket> {
  const attempt = await connectOnce('127.0.0.1', port, { timeoutMs: 1000, allowHalfOpen: true });
  if (attempt.state !== 'open') throw new Error('not open');
  return attempt.socket;
}

const collect = (stream: PassThrough) => {
  const chunks: Buffer[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d));
  return () => Buffer.concat(chunks);
};

describe('relay', () => {
  it('copies both ways; the end of input half-closes, the server still answers', async () => {
    let received = 0;
    const port = await serve((s) => {
      s.on('data', (d: Buffer) => (received += d.length));
      s.on('end', () => s.end(`got ${received}`));
    });
    const input = new PassThrough();
    const output = new PassThrough();
    const read = collect(output);
    const done = relay(await connect(port), input, output);
    const big = Buffer.alloc(4 * 1024 * 1024, 7);
    input.end(big);
    await done;
    expect(read().toString()).toBe(`got ${big.length}`);
    expect(output.writableEnded).toBe(true);
  });

  it('the server closing first ends output; input still flows until it ends', async () => {
    let late = '';
    let serverDone!: () => void;
    const serverEnded = new Promise<void>((r) => (serverDone = r));
    const port = await serve((s) => {
      s.end('bye');
      s.on('data', (d: Buffer) => (late += d.toString()));
      s.on('end', serverDone);
    });
    const input = new PassThrough();
    const output = new PassThrough();
    const read = collect(output);
    const done = relay(await connect(port), input, output);
    await once(output, 'end');
    expect(read().toString()).toBe('bye');
    input.end('late');
    await done;
    await serverEnded;
    expect(late).toBe('late');
  });

  it('the server going away entirely after its FIN is a clean end', async () => {
    const port = await serve((s) => {
      s.end('bye');
      s.on('end', () => s.destroy());
      setTimeout(() => s.destroy(), 20);
    });
    const input = new PassThrough();
    const output = new PassThrough();
    const read = collect(output);
    const done = relay(await connect(port), input, output);
    await once(output, 'end');
    expect(read().toString()).toBe('bye');
    await new Promise((r) => setTimeout(r, 50));
    input.write('x');
    setTimeout(() => input.write('y'), 20);
    setTimeout(() => input.end('z'), 40);
    await expect(done).resolves.toBeUndefined();
  });

  it('rejects when the connection is reset', async () => {
    const port = await serve((s) => s.on('data', () => s.resetAndDestroy()));
    const input = new PassThrough();
    const done = relay(await connect(port), input, new PassThrough());
    input.write('x');
    await expect(done).rejects.toThrow(/ECONNRESET/);
  });
});
