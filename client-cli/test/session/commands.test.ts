// knock ssh / knock proxy keeping a session's grant, and knock close.
import { PassThrough } from 'node:stream';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyOpen } from '@knock/shared/node';
import { ExitCode } from '@knock/shared';
import { FakeClock } from '../helpers/fake-clock.js';
import { fake, profile, run, tcp } from '../helpers/fake-deps.js';

const lab = profile('lab.test', {
  sequence: [tcp(7000), tcp(8000)],
  port: 22,
  openFor: 20,
  closeSequence: [tcp(9000)],
  keepOpen: true,
});
const sshG = {
  code: 0,
  stdout: 'host lab\nhostname lab.test\nport 22\naddressfamily any\n',
};
const knocked = (f: ReturnType<typeof fake>) =>
  f.sends.map((s) => s.knocks.map((k) => k.port).join(','));

describe('knock ssh with keep_open', () => {
  it('knocks again while ssh runs, and the close sequence when ssh exits', async () => {
    const f = fake({ profiles: [lab], sshG });
    const clock = new FakeClock();
    f.deps.sessionClock = clock;
    f.deps.runInteractive = async () => {
      await clock.advance(45_000);
      return 0;
    };
    const { code, stderr } = await run(['ssh', 'lab'], f);
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('');
    expect(knocked(f)).toEqual(['7000,8000', '7000,8000', '7000,8000', '7000,8000', '9000']);
    expect(clock.pending).toBe(0);
  });

  it('a failed re-knock is on stderr and ssh is not disturbed; ssh failing still closes', async () => {
    const f = fake({ profiles: [lab], sshG, sshStatus: 255 });
    const clock = new FakeClock();
    f.deps.sessionClock = clock;
    const send = f.deps.sendKnocks;
    let n = 0;
    f.deps.sendKnocks = async (o) => {
      if (++n === 2) throw new Error('sendto: network is unreachable');
      return send(o);
    };
    f.deps.runInteractive = async () => {
      await clock.advance(20_000);
      return 255;
    };
    const { code, stderr } = await run(['ssh', 'lab'], f);
    expect(code).toBe(255);
    expect(stderr).toMatch(
      /^knock: could not knock lab\.test again: sendto: network is unreachable; the session goes on/,
    );
    expect(knocked(f).at(-1)).toBe('9000');
  });

  it("every knock of a session holds the host's lock, so two sessions never interleave", async () => {
    const f = fake({ profiles: [lab], sshG });
    const clock = new FakeClock();
    f.deps.sessionClock = clock;
    const locked: string[] = [];
    let held = false;
    f.deps.withKnockLock = async <T>(host: string, fn: () => Promise<T>): Promise<T> => {
      expect(held).toBe(false);
      held = true;
      const sent = f.sends.length;
      try {
        return await fn();
      } finally {
        held = false;
        locked.push(`${host}:${f.sends.length - sent}`);
      }
    };
    f.deps.runInteractive = async () => {
      await clock.advance(15_000);
      return 0;
    };
    await run(['ssh', 'lab'], f);
    expect(locked).toEqual(['lab.test:1', 'lab.test:1', 'lab.test:1']);
    expect(knocked(f)).toEqual(['7000,8000', '7000,8000', '9000']);
  });

  it('without keep_open nothing more is sent; --keep-open asks for it', async () => {
    const plain = { ...lab, keepOpen: false };
    const f = fake({ profiles: [plain], sshG });
    const clock = new FakeClock();
    f.deps.sessionClock = clock;
    f.deps.runInteractive = async () => {
      await clock.advance(45_000);
      return 0;
    };
    await run(['ssh', 'lab'], f);
    expect(knocked(f)).toEqual(['7000,8000']);
    const g = fake({ profiles: [plain], sshG });
    g.deps.sessionClock = new FakeClock();
    await run(['ssh', '--keep-open', 'lab'], g);
    expect(knocked(g)).toEqual(['7000,8000', '9000']);
  });

  it('one-time sequences: not kept without --keep-open, and stderr says why', async () => {
    const ots = profile('lab.test', {
      oneTimeSequences: '/o.ots',
      port: 22,
      keepOpen: true,
      openFor: 20,
    });
    const { f, stderr } = await run(['ssh', 'lab'], { profiles: [ots], sshG });
    expect(stderr).toMatch(
      /not keeping lab\.test open: it uses one-time sequences \(\/o\.ots\) and each re-knock uses a line/,
    );
    expect(f.otsTaken).toHaveLength(1);
  });
});

describe('knock proxy with keep_open', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer({ allowHalfOpen: true }, (socket) => socket.on('data', () => undefined));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  function proxyFake() {
    const f = fake({ profiles: [lab], addresses: { 'lab.test': ['127.0.0.1'] } });
    const clock = new FakeClock();
    f.deps.sessionClock = clock;
    f.deps.verifyOpen = (o) => verifyOpen(o);
    const input = new PassThrough();
    f.deps.relayStreams = () => ({ input, output: new PassThrough() });
    const handlers: ((s: NodeJS.Signals) => void)[] = [];
    let released = 0;
    f.deps.onSignals = (signals, handler) => {
      expect(signals).toEqual(['SIGHUP', 'SIGTERM', 'SIGINT']);
      handlers.push(handler);
      return () => released++;
    };
    return { f, clock, input, handlers, released: () => released };
  }

  it('ssh exiting (SIGHUP to its ProxyCommand) ends the relay, then the close sequence goes', async () => {
    const { f, clock, handlers, released } = proxyFake();
    const running = run(['proxy', 'lab.test', String(port)], f);
    while (handlers.length === 0) await new Promise((r) => setTimeout(r, 5));
    await clock.advance(30_000);
    handlers[0]!('SIGHUP');
    const { code, stderr } = await running;
    expect(stderr).toBe('');
    expect(code).toBe(129);
    expect(knocked(f)).toEqual(['7000,8000', '7000,8000', '7000,8000', '9000']);
    expect(released()).toBe(1);
  });

  it('the relay closing (stdin ends, the server closes) is the end of the session too', async () => {
    const { f, input } = proxyFake();
    const closing = createServer((s) => s.end());
    closing.listen(0, '127.0.0.1');
    await once(closing, 'listening');
    input.end();
    const { code } = await run(
      ['proxy', 'lab.test', String((closing.address() as { port: number }).port)],
      f,
    );
    closing.close();
    expect(code).toBe(0);
    expect(knocked(f)).toEqual(['7000,8000', '9000']);
  });
});

describe('knock close HOST', () => {
  it("knocks the profile's close_sequence to every address", async () => {
    const { code, f, stderr } = await run(['close', '-v', 'lab.test'], {
      profiles: [lab],
      addresses: { 'lab.test': ['192.0.2.2', '2001:db8::2'] },
    });
    expect(code, stderr).toBe(0);
    expect(knocked(f)).toEqual(['9000']);
    expect(f.sends[0]!.addresses).toEqual(['192.0.2.2', '2001:db8::2']);
    expect(stderr).toMatch(
      /knocked the close sequence 9000 of lab\.test \(192\.0\.2\.2, 2001:db8::2\)/,
    );
  });

  it('-4 knocks IPv4 only', async () => {
    const { f } = await run(['close', '-4', 'lab.test'], { profiles: [lab] });
    expect(f.resolves).toEqual([{ host: 'lab.test', family: 'ipv4' }]);
  });

  it('a profile without close_sequence is a config error that says what to add', async () => {
    const { code, stderr, f } = await run(['close', 'lab.test'], {
      profiles: [profile('lab.test', { sequence: [tcp(1)] })],
    });
    expect(code).toBe(ExitCode.config);
    expect(stderr).toMatch(/has no close_sequence\n {2}hint: add close_sequence = "PORT,PORT"/);
    expect(f.sends).toEqual([]);
  });

  it('no profile: says where profiles are read from', async () => {
    const { code, stderr } = await run(['close', 'other.test'], { profiles: [lab] });
    expect(code).toBe(ExitCode.noProfile);
    expect(stderr).toMatch(/no profile for "other\.test"/);
  });
});
