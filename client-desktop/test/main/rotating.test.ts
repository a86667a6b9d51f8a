import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deriveSequence, parseSecret, profileSpec, type Profile } from '@knock/shared';
import { startApp, type ElectronApi } from '../../src/main/app.js';
import * as electron from '../mocks/electron.js';
import { FakeClock, FakeStore } from '../fakes.js';

const { mock } = electron;
const api = electron as unknown as ElectronApi;
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const LOW = 47310;

describe('the tray with a rotating profile', () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];
  const arrived: number[] = [];
  beforeAll(async () => {
    server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    // The door's whole range (16 ports): each knock is seen (in no reliable order: one socket each).
    for (let p = LOW; p < LOW + 16; p++) {
      const socket = createSocket('udp4');
      socket.on('message', () => arrived.push(p));
      await new Promise<void>((resolve) => socket.bind(p, '127.0.0.1', resolve));
      sockets.push(socket);
    }
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('knocks the sequence of its clock, moved by KNOCK_CLOCK_OFFSET, through the shared service', async () => {
    const rotating = {
      secret: SECRET,
      door: 'ssh',
      length: 4,
      step: 30,
      low: LOW,
      high: LOW + 15,
      protocols: 'udp' as const,
    };
    const profile: Profile = {
      host: '127.0.0.1',
      family: 'ipv4',
      delayMs: 0,
      port,
      verifyTimeoutMs: 2000,
      rotating,
    };
    const offset = -3600;
    const before = Math.floor((Date.now() + offset * 1000) / 30_000);
    const running = await startApp(api, {
      env: { KNOCK_CLOCK_OFFSET: String(offset) },
      store: new FakeStore([profile]),
      clock: new FakeClock(),
    });
    mock.click('127.0.0.1');
    await vi.waitFor(() => expect(mock.notifications.length).toBeGreaterThan(0), {
      timeout: 3000,
    });
    const after = Math.floor((Date.now() + offset * 1000) / 30_000);
    await vi.waitFor(() => expect(arrived).toHaveLength(4), { timeout: 2000 });
    const spec = profileSpec(rotating, parseSecret(SECRET).secret!);
    const set = (step: number) =>
      deriveSequence(spec, 4, step)
        .map((k) => k.port)
        .sort();
    const got = [...arrived].sort();
    expect([set(before), set(after)]).toContainEqual(got);
    // An hour's offset: not the sequence of the unmoved clock (when the two differ at all).
    const unmoved = set(Math.floor(Date.now() / 30_000));
    if (unmoved.join() !== set(before).join()) expect(got).not.toEqual(unmoved);
    expect(mock.notifications.at(-1)?.title).toBe('127.0.0.1 is open');
    running?.controller.stop();
  });
});
