import { describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import type { DaemonDeps } from '../../src/daemon/daemon.js';
import { HostLookup } from '../../src/daemon/lookup.js';
import type { FakeReopenableSource } from './fakes.js';
import { MemoryLog, fakeDaemon, flush, knock } from './fakes.js';

const SSH = `
[options]
  LogFile = /var/log/knockd.log

[openSSH]
  sequence    = 7000,8000,9000
  seq_timeout = 5
  command     = /sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
  tcpflags    = syn
`;

const setup = (text = SSH, extra: Partial<DaemonDeps> = {}) => fakeDaemon(text, extra);

describe('Daemon: knocks', () => {
  it("logs knockd's lines byte for byte and opens the door for the knocker", async () => {
    const t = setup();
    await t.daemon.start();
    t.send('192.0.2.1', 7000, 8000, 9000);
    expect(t.memory.file()).toBe(
      [
        '[2006-03-15 09:41] starting up, listening on vs0',
        '[2006-03-15 09:41] 192.0.2.1: openSSH: Stage 1',
        '[2006-03-15 09:41] 192.0.2.1: openSSH: Stage 2',
        '[2006-03-15 09:41] 192.0.2.1: openSSH: Stage 3',
        '[2006-03-15 09:41] 192.0.2.1: openSSH: OPEN SESAME',
        '',
      ].join('\n'),
    );
    expect(t.actions.opened).toEqual([
      {
        door: 'openSSH',
        src: '192.0.2.1',
        family: 4,
        command: '/sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT',
      },
    ]);
  });

  it('builds the capture filter from the doors and the local addresses', async () => {
    const t = setup();
    await t.daemon.start();
    expect(t.capture.opens).toEqual([
      { interfaces: ['vs0'], filter: '192.0.2.2|2001:db8::2:7000/tcp,8000/tcp,9000/tcp' },
    ]);
  });

  it('a throw on the expiry path is logged, never reaches the fatal handler, and expiry goes on (issue 9 item 21)', async () => {
    let broken = true;
    const lookup = new HostLookup({ reverse: () => Promise.resolve([]) });
    const nameOf = lookup.nameOf.bind(lookup);
    lookup.nameOf = (address: string) => {
      if (broken) throw new Error('lookup exploded');
      return nameOf(address);
    };
    const t = setup(SSH, { lookup });
    await t.daemon.start();
    broken = false;
    t.send('192.0.2.1', 7000);
    broken = true;
    // The timer fires inside advance(): a throw would fail this await.
    await t.clock.advance(5000);
    expect(t.memory.messages.at(-1)).toMatch(
      /^internal error while expiring attempts: lookup exploded \(a bug in knock-server/,
    );
    broken = false;
    t.send('192.0.2.2', 7000);
    await t.clock.advance(6000);
    expect(t.memory.messages.at(-1)).toBe('192.0.2.2: openSSH: sequence timeout (stage 1)');
    await t.daemon.stop();
  });

  it('logs a sequence timeout when it happens, without waiting for another packet', async () => {
    const t = setup();
    await t.daemon.start();
    t.send('192.0.2.1', 7000, 8000);
    await t.clock.advance(4999);
    expect(t.memory.messages.at(-1)).toBe('192.0.2.1: openSSH: Stage 2');
    await t.clock.advance(1);
    expect(t.memory.messages.at(-1)).toBe('192.0.2.1: openSSH: sequence timeout (stage 2)');
    expect(t.memory.file().split('\n').at(-2)).toBe(
      '[2006-03-15 09:41] 192.0.2.1: openSSH: sequence timeout (stage 2)',
    );
    t.send('192.0.2.1', 9000);
    expect(t.actions.opened).toEqual([]);
  });

  it('a flood of first knocks arms one expiry timer, not one per packet, and still expires on time', async () => {
    const t = setup();
    await t.daemon.start();
    const before = t.clock.armed;
    for (let i = 0; i < 500; i++) {
      t.clock.time += 2;
      t.send(`198.51.100.${i % 250}`, 7000);
    }
    expect(t.clock.armed - before).toBeLessThanOrEqual(2);
    await t.clock.advance(5000);
    const timeouts = t.memory.messages.filter((m) => m.endsWith('sequence timeout (stage 1)'));
    expect(timeouts.length).toBeGreaterThan(0);
    await t.clock.advance(1000);
    // every attempt started (250 sources, the last knock of each) has timed out by now
    expect(t.memory.messages.filter((m) => m.endsWith('sequence timeout (stage 1)'))).toHaveLength(
      250,
    );
  });

  it('an IPv6 knocker gets family 6; one source finishing never ends another one', async () => {
    const t = setup();
    await t.daemon.start();
    t.send('2001:db8::1', 7000);
    t.send('192.0.2.1', 7000, 8000, 9000);
    t.send('2001:db8::1', 8000, 9000);
    expect(t.actions.opened.map((o) => [o.src, o.family])).toEqual([
      ['192.0.2.1', 4],
      ['2001:db8::1', 6],
    ]);
  });

  it('-l: names appear in log lines once known, never in what the door runs', async () => {
    const lookup = new HostLookup({ reverse: () => Promise.resolve(['laptop.example']) });
    const t = setup(SSH, { lookup });
    await t.daemon.start();
    t.send('192.0.2.1', 7000);
    await flush();
    t.send('192.0.2.1', 8000, 9000);
    expect(t.memory.messages.slice(1)).toEqual([
      '192.0.2.1: openSSH: Stage 1',
      '192.0.2.1 (laptop.example): openSSH: Stage 2',
      '192.0.2.1 (laptop.example): openSSH: Stage 3',
      '192.0.2.1 (laptop.example): openSSH: OPEN SESAME',
    ]);
    expect(t.memory.entries.at(-1)).toMatchObject({ src: '192.0.2.1', host: 'laptop.example' });
    expect(t.actions.opened[0]?.src).toBe('192.0.2.1');
  });

  it('-D: one debug line per packet, none without -D', async () => {
    const t = setup(SSH, {});
    const debug = new MemoryLog();
    const d = setup(SSH, { log: debug.logger({ debug: true }) });
    await t.daemon.start();
    await d.daemon.start();
    t.send('192.0.2.1', 7000);
    d.capture.source.emit(knock(d.clock, '2001:db8::1', 7000, { srcPort: 40001, flags: 0x12 }));
    expect(t.memory.entries.filter((e) => e.level === 'debug')).toEqual([]);
    expect(debug.entries.filter((e) => e.level === 'debug').map((e) => e.msg)).toContain(
      'packet: tcp [2001:db8::1]:40001 -> [2001:db8::2]:7000 syn,ack',
    );
  });

  it('--log-format json: one object per line with event, src, door, stage', async () => {
    const t = setup();
    await t.daemon.start();
    t.send('192.0.2.1', 7000);
    const lines = t.memory
      .file('json')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(lines[1]).toEqual({
      time: t.memory.date.toISOString(),
      level: 'info',
      event: 'stage',
      src: '192.0.2.1',
      door: 'openSSH',
      stage: 1,
      msg: '192.0.2.1: openSSH: Stage 1',
    });
  });
});

describe('Daemon: memory after a flood', () => {
  it('gives memory back once, two seconds after a big attempt table has expired', async () => {
    let releases = 0;
    const t = setup(SSH, { maxAttempts: 200_000 });
    t.capture.releaseMemory = () => void releases++;
    await t.daemon.start();
    // 100,000 spoofed first knocks: the attempt table grows past 65,536 slots.
    for (let i = 0; i < 100_000; i++) {
      const src = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      t.capture.source.emit(knock(t.clock, src, 7000));
    }
    await t.clock.advance(1000);
    expect(releases).toBe(0);
    // Seq_Timeout (5 s) expires them all; the release follows 2 s later, not at once.
    await t.clock.advance(4500);
    expect(releases).toBe(0);
    await t.clock.advance(2000);
    expect(releases).toBe(1);
    // Nothing more to give back: no further release.
    await t.clock.advance(60_000);
    expect(releases).toBe(1);
    await t.daemon.stop();
  });

  it('a small table never triggers a release', async () => {
    let releases = 0;
    const t = setup();
    t.capture.releaseMemory = () => void releases++;
    await t.daemon.start();
    for (let i = 0; i < 5000; i++)
      t.capture.source.emit(knock(t.clock, `10.1.${i >> 8}.${i & 255}`, 7000));
    await t.clock.advance(30_000);
    expect(releases).toBe(0);
    await t.daemon.stop();
  });
});

describe('Daemon: start and stop', () => {
  it('a capture that cannot open is an error at start, with its exit code', async () => {
    const t = setup();
    t.capture.openErrors.push(
      new KnockError('capture.noDevice', 'cannot capture on vs0: no such device', {
        exitCode: ExitCode.capture,
      }),
    );
    await expect(t.daemon.start()).rejects.toMatchObject({ exitCode: ExitCode.capture });
    expect(t.memory.messages).toEqual([]);
  });

  it('no address to watch because the interface is missing: the capture error names it', async () => {
    const t = setup();
    t.capture.local = { v4: [], v6: [] };
    t.capture.openErrors.push(
      new KnockError('capture.noDevice', 'no such interface "vs0"', { exitCode: ExitCode.capture }),
    );
    await expect(t.daemon.start()).rejects.toMatchObject({ message: 'no such interface "vs0"' });
  });

  it('no address on an existing interface: that is what it says', async () => {
    const t = setup();
    t.capture.local = { v4: [], v6: [] };
    await expect(t.daemon.start()).rejects.toThrow('no local address to watch for knocks');
    expect(t.capture.sources[0]?.closed).toBe(true); // the probe was closed
  });

  it('stop runs pending stop commands now, closes the capture, logs "shutting down" last', async () => {
    const t = setup();
    await t.daemon.start();
    t.send('192.0.2.1', 7000);
    await t.daemon.stop();
    expect(t.actions.events).toEqual(['runAllPendingNow', 'close']);
    expect(t.capture.source.closed).toBe(true);
    expect(t.capture.watching).toBe(false);
    expect(t.memory.messages.at(-1)).toBe('shutting down');
    expect(t.clock.pending).toBe(0);
  });
});

describe('Daemon: SIGHUP', () => {
  const TWO = `${SSH}
[closeSSH]
  sequence = 9000,8000,7000
  command  = /sbin/iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
`;

  it('a knock in progress on an unchanged door completes across a reload', async () => {
    const t = setup();
    await t.daemon.start();
    t.send('192.0.2.1', 7000, 8000);
    t.setConfig(TWO);
    await t.daemon.reload();
    t.send('192.0.2.1', 9000);
    expect(t.memory.messages).toContain('re-reading config file: /etc/knockd.conf');
    expect(t.actions.opened.map((o) => o.door)).toEqual(['openSSH']);
    // and the new door works
    t.send('192.0.2.5', 9000, 8000, 7000);
    expect(t.actions.opened.map((o) => o.door)).toEqual(['openSSH', 'closeSSH']);
    expect(t.capture.source.filters.at(-1)).toContain('9000/tcp,8000/tcp,7000/tcp');
  });

  it(
    'a reload of thousands of doors is linear: unchanged doors found by key, not by scans (issue 9 item 19)',
    { timeout: 60_000 },
    async () => {
      const many = (n: number) =>
        Array.from(
          { length: n },
          (_, i) =>
            `[d${i}]\n  sequence = ${(i % 60000) + 1},${(i % 7) + 60001}\n  command = true\n`,
        ).join('');
      const t = setup(many(5000));
      await t.daemon.start();
      t.send('192.0.2.1', 4999 + 1);
      const started = performance.now();
      await t.daemon.reload();
      // The cubic matching took hours here; the linear one well under a second.
      expect(performance.now() - started).toBeLessThan(15_000);
      t.send('192.0.2.1', 60001 + (4999 % 7));
      expect(t.actions.opened.map((o) => o.door)).toEqual(['d4999']);
    },
  );

  it("a changed door's attempts are dropped (its sequence is not the one they started)", async () => {
    const t = setup();
    await t.daemon.start();
    t.send('192.0.2.1', 7000, 8000);
    t.setConfig(SSH.replace('7000,8000,9000', '7000,8000,9001'));
    await t.daemon.reload();
    t.send('192.0.2.1', 9001);
    expect(t.actions.opened).toEqual([]);
  });

  it('a bad config is logged problem by problem, and the old one keeps running', async () => {
    const t = setup();
    await t.daemon.start();
    t.send('192.0.2.1', 7000);
    t.setConfig(`${SSH}\n[broken]\n  sequence = 1,2:icmp\n  bogus = 1\n`);
    await t.daemon.reload();
    const after = t.memory.messages.slice(
      t.memory.messages.indexOf('re-reading config file: /etc/knockd.conf'),
    );
    expect(after[1]).toMatch(/^\/etc\/knockd\.conf:12:\d+: error: .*icmp/);
    expect(after.some((m) => /^\/etc\/knockd\.conf:13:\d*:? ?error: /.test(m))).toBe(true);
    expect(after.at(-1)).toBe('/etc/knockd.conf has errors: keeping the running configuration');
    t.send('192.0.2.1', 8000, 9000);
    expect(t.actions.opened.map((o) => o.door)).toEqual(['openSSH']);
  });

  it('start-only settings (Control_Socket, Metrics_Listen, Interface): a change is logged as waiting for the next start, at every reload until then', async () => {
    const withOptions = (lines: string) =>
      SSH.replace('  LogFile = /var/log/knockd.log', `  LogFile = /var/log/knockd.log\n${lines}`);
    const t = setup(withOptions('  Control_Socket = /run/a.sock'));
    await t.daemon.start();
    const since = (from: number) => t.memory.messages.slice(from);
    // Unchanged: nothing said.
    let from = t.memory.messages.length;
    await t.daemon.reload();
    expect(since(from).filter((m) => m.includes('next start'))).toEqual([]);
    expect(t.daemon.stats.lastReload?.message).toBe('1 door loaded');

    t.setConfig(
      withOptions(
        '  Control_Socket = /run/b.sock\n  Metrics_Listen = 127.0.0.1:9742\n  Interface = eth9',
      ),
    );
    from = t.memory.messages.length;
    await t.daemon.reload();
    const said = [
      'Interface changed: it takes effect at the next start (as in knockd)',
      'Control_Socket changed from /run/a.sock to /run/b.sock: it takes effect at the next start (until then this daemon answers on /run/a.sock: knock-server status -s /run/a.sock)',
      'Metrics_Listen changed from (not set) to 127.0.0.1:9742: it takes effect at the next start',
    ];
    expect(since(from).filter((m) => m.includes('next start'))).toEqual(said);
    expect(t.daemon.stats.lastReload).toMatchObject({
      ok: true,
      message: '1 door loaded; Interface, Control_Socket, Metrics_Listen: at the next start',
    });
    // A second SIGHUP with the same file: still not applied, still said.
    from = t.memory.messages.length;
    await t.daemon.reload();
    expect(since(from).filter((m) => m.includes('next start'))).toEqual(said);
    // Back to what it started with: nothing waits any more.
    t.setConfig(withOptions('  Control_Socket = /run/a.sock'));
    from = t.memory.messages.length;
    await t.daemon.reload();
    expect(since(from).filter((m) => m.includes('next start'))).toEqual([]);
    // From the default socket to none: no "answers on" for a socket that is not there.
    const u = setup(withOptions('  Control_Socket = none'));
    await u.daemon.start();
    u.setConfig(SSH);
    await u.daemon.reload();
    expect(u.memory.messages.filter((m) => m.includes('Control_Socket'))).toEqual([
      'Control_Socket changed from none to /run/knock-server.sock: it takes effect at the next start',
    ]);
  });

  it('re-reads local addresses and rebuilds the filter', async () => {
    const t = setup();
    await t.daemon.start();
    t.capture.local.v4.push('198.51.100.7');
    await t.daemon.reload();
    expect(t.capture.source.filters.at(-1)).toBe(
      '192.0.2.2|198.51.100.7|2001:db8::2:7000/tcp,8000/tcp,9000/tcp',
    );
  });
});

describe('Daemon: addresses and capture loss', () => {
  it('follows address changes (DHCP): knocks to the new address count', async () => {
    const t = setup();
    await t.daemon.start();
    t.capture.local.v4 = ['198.51.100.7'];
    t.capture.onAddressChange?.();
    expect(t.capture.source.filters.at(-1)).toBe(
      '198.51.100.7|2001:db8::2:7000/tcp,8000/tcp,9000/tcp',
    );
    for (const port of [7000, 8000, 9000])
      t.capture.source.emit(knock(t.clock, '192.0.2.1', port, { dst: '198.51.100.7' }));
    expect(t.actions.opened).toHaveLength(1);
    expect(t.memory.messages).toContain('local addresses now: 198.51.100.7, 2001:db8::2');
  });

  it('losing every address keeps the last filter (and says why) until addresses return', async () => {
    const t = setup();
    await t.daemon.start();
    t.capture.local = { v4: [], v6: [] };
    t.capture.onAddressChange?.();
    expect(t.capture.source.filters).toHaveLength(1);
    expect(t.memory.messages.at(-1)).toBe(
      'no local address to watch for knocks; keeping the current capture filter',
    );
    t.capture.local = { v4: ['192.0.2.2'], v6: [] };
    t.capture.onAddressChange?.();
    expect(t.capture.source.filters.at(-1)).toBe('192.0.2.2:7000/tcp,8000/tcp,9000/tcp');
  });

  it('an interface that goes away is retried every second until it is back', async () => {
    const t = setup();
    await t.daemon.start();
    const first = t.capture.source;
    t.capture.openErrors.push(new Error('vs0: No such device'), new Error('vs0: No such device'));
    first.fail(new Error('The interface went down'));
    expect(first.closed).toBe(true);
    expect(t.memory.messages.at(-1)).toBe(
      'capture failed: The interface went down; retrying every 1 s',
    );
    await t.clock.advance(1000);
    await t.clock.advance(1000);
    expect(t.capture.sources).toHaveLength(1);
    await t.clock.advance(1000);
    expect(t.capture.sources).toHaveLength(2);
    expect(t.memory.messages.at(-1)).toBe('listening on vs0 again');
    t.send('192.0.2.1', 7000, 8000, 9000);
    expect(t.actions.opened).toHaveLength(1);
  });
});

describe('Daemon: one pcap handle per interface', () => {
  it('a lost interface is reopened in place; the other interfaces never stop', async () => {
    const t = setup(SSH, { interfaces: ['vs0', 'vs1'] });
    t.capture.reopenable = true;
    await t.daemon.start();
    const source = t.capture.source as FakeReopenableSource;
    source.reopenErrors.push(new Error('vs1: No such device'));
    source.failInterface('vs1', new Error('capture on "vs1" stopped: The interface went down'));
    expect(t.memory.messages.at(-1)).toBe(
      'capture failed: capture on "vs1" stopped: The interface went down; retrying every 1 s',
    );
    // vs0 still delivers while vs1 is away
    t.send('192.0.2.1', 7000, 8000, 9000);
    expect(t.actions.opened).toHaveLength(1);
    await t.clock.advance(1000);
    expect(source.reopens).toBe(1);
    expect(t.memory.messages.at(-1)).not.toBe('listening on vs0,vs1 again');
    await t.clock.advance(1000);
    expect(source.reopens).toBe(2);
    expect(t.memory.messages.at(-1)).toBe('listening on vs0,vs1 again');
    expect(t.capture.sources).toHaveLength(1);
    expect(source.closed).toBe(false);
  });
});

describe('Daemon: one-time sequences', () => {
  const OTS = `
[options]
  LogFile = /var/log/knockd.log
[otp]
  one_time_sequences = /etc/knockd/otp
  command = open %IP%
[static]
  sequence = 5000
  command = static %IP%
`;

  it('rotates after each use, filter included, and disables the door when none is left', async () => {
    const t = setup(OTS);
    t.ots.files.set('/etc/knockd/otp', ['1001,1002', '2001,2002:udp']);
    await t.daemon.start();
    expect(t.capture.opens[0]?.filter).toContain('1001/tcp,1002/tcp');
    t.send('192.0.2.1', 1001, 1002);
    await flush();
    expect(t.ots.consumed).toEqual(['1001,1002']);
    expect(t.capture.source.filters.at(-1)).toContain('2001/tcp,2002/udp');
    expect(t.capture.source.filters.at(-1)).not.toContain('1001');
    // replaying the used sequence opens nothing
    t.send('192.0.2.66', 1001, 1002);
    expect(t.actions.opened.map((o) => o.src)).toEqual(['192.0.2.1']);
    // the next one, over IPv6 too
    t.capture.source.emit(knock(t.clock, '2001:db8::1', 2001));
    t.capture.source.emit(knock(t.clock, '2001:db8::1', 2002, { protocol: 'udp', flags: 0 }));
    await flush();
    expect(t.actions.opened.map((o) => [o.door, o.src])).toEqual([
      ['otp', '192.0.2.1'],
      ['otp', '2001:db8::1'],
    ]);
    expect(t.memory.messages).toContain(
      'no more sequences left in the one time sequences file for door otp --> disabling the door',
    );
    expect(t.capture.source.filters.at(-1)).toBe('192.0.2.2|2001:db8::2:5000/tcp');
    // the daemon keeps running, other doors work
    t.send('192.0.2.1', 5000);
    expect(t.actions.opened.at(-1)).toMatchObject({ door: 'static', src: '192.0.2.1' });
  });

  it('no replay while the file is being written: the door is off until the next sequence is in', async () => {
    const t = setup(OTS);
    t.ots.files.set('/etc/knockd/otp', ['1001,1002', '3001,3002']);
    t.ots.delayMs = 20;
    await t.daemon.start();
    t.send('192.0.2.1', 1001, 1002);
    t.send('192.0.2.9', 1001, 1002);
    await new Promise((r) => setTimeout(r, 40));
    await flush();
    expect(t.actions.opened.map((o) => o.src)).toEqual(['192.0.2.1']);
    expect(t.capture.source.filters.at(-1)).toContain('3001/tcp,3002/tcp');
  });

  it('starts with an exhausted file: the door is off, the rest runs', async () => {
    const t = setup(OTS);
    t.ots.files.set('/etc/knockd/otp', ['#1001,1002']);
    await t.daemon.start();
    expect(t.memory.messages).toEqual([
      'starting up, listening on vs0',
      'no more sequences left in the one time sequences file for door otp --> disabling the door',
    ]);
    expect(t.capture.opens[0]?.filter).toBe('192.0.2.2|2001:db8::2:5000/tcp');
  });

  it('a missing one-time file is an error at start', async () => {
    const t = setup(OTS);
    await expect(t.daemon.start()).rejects.toMatchObject({
      exitCode: ExitCode.otsFile,
      message: expect.stringContaining('/etc/knockd/otp') as unknown,
    });
  });
});
