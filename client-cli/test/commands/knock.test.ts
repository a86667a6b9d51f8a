import { describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import { fake, profile, run, tcp, udp } from '../helpers/fake-deps.js';

describe('knock HOST PORT… (knockd compatible)', () => {
  it('knocks the ports in order over TCP, quietly, exit 0', async () => {
    const { code, stdout, stderr, f } = await run(['ssh.test', '1228', '1227']);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toBe('');
    expect(f.resolves).toEqual([{ host: 'ssh.test', family: 'any' }]);
    expect(f.sends).toHaveLength(1);
    expect(f.sends[0]).toMatchObject({
      addresses: ['192.0.2.2'],
      knocks: [tcp(1228), tcp(1227)],
      delayMs: 0,
    });
    expect(f.loads).toEqual([]);
  });

  it('-v prints knockd-style lines on stdout', async () => {
    const { stdout } = await run(['-v', 'h', '1228', '7000:udp'], {
      addresses: { h: ['2001:db8::2', '192.0.2.2'] },
    });
    expect(stdout).toBe(
      [
        'hitting tcp [2001:db8::2]:1228',
        'hitting udp [2001:db8::2]:7000',
        'hitting tcp 192.0.2.2:1228',
        'hitting udp 192.0.2.2:7000',
        '',
      ].join('\n'),
    );
  });

  it.each([
    [['7000:udp'], [udp(7000)]],
    [['7000:UDP'], [udp(7000)]],
    [
      ['7000:tcp', '8000:Tcp'],
      [tcp(7000), tcp(8000)],
    ],
    [
      ['-u', '7000:tcp', '8000'],
      [udp(7000), udp(8000)],
    ],
    [['--udp', '7000'], [udp(7000)]],
    [
      ['1', '65535'],
      [tcp(1), tcp(65535)],
    ],
  ])('protocols: %j', async (args, knocks) => {
    const flags = args.filter((a) => a.startsWith('-'));
    const ports = args.filter((a) => !a.startsWith('-'));
    const { code, f } = await run([...flags, 'h', ...ports]);
    expect(code).toBe(0);
    expect(f.sends[0]?.knocks).toEqual(knocks);
  });

  it('accepts service names from /etc/services', async () => {
    const { code, f } = await run(['h', 'ssh', 'domain:udp', 'openvpn', 'www']);
    expect(code).toBe(0);
    expect(f.sends[0]?.knocks).toEqual([tcp(22), udp(53), tcp(1194), tcp(80)]);
  });

  it.each([
    [['h', '7000:foo'], 'unknown protocol "foo" in "7000:foo"'],
    [['h', '7000:'], 'unknown protocol "" in "7000:"'],
    [['h', '1228', '70000'], 'port 70000 is out of range'],
    [['h', '0'], 'port 0 is out of range'],
    [['h', '1228', '-1'], "unknown option '-1'"],
    [['h', '12x'], '"12x" is not a port'],
    [['h', '1228', 'nosuch'], 'unknown service "nosuch" (not in /etc/services)'],
    [['-d', '-5', 'h', '1'], '-d: the delay cannot be negative'],
    [['-d', 'abc', 'h', '1'], '-d wants milliseconds, got "abc"'],
    [['-4', '-6', 'h', '1'], "option '-4, --ipv4' cannot be used with option '-6, --ipv6'"],
    [['-x', 'h', '1'], "unknown option '-x'"],
    [['--timeout', '0', 'h', '1'], '--timeout wants a number of seconds from 0.001 to 86400'],
    [['--timeout', 'soon', 'h', '1'], '--timeout wants a number of seconds from 0.001 to 86400'],
    [['h', '1', '--verify', '70000'], '--verify: "70000" is not a port'],
    [['-d'], "option '-d, --delay <ms>' argument missing"],
  ])('%j is a usage error (exit 2) and sends nothing', async (argv, message) => {
    const { code, stderr, f } = await run(argv);
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toContain(message);
    expect(stderr.startsWith('knock: ')).toBe(true);
    expect(f.sends).toEqual([]);
    expect(f.resolves).toEqual([]);
  });

  it('-d sets the delay, -4 / -6 the family', async () => {
    expect((await run(['-d', '200', 'h', '1'])).f.sends[0]?.delayMs).toBe(200);
    expect((await run(['--delay', '0', 'h', '1'])).f.sends[0]?.delayMs).toBe(0);
    expect((await run(['-4', 'h', '1'])).f.resolves[0]?.family).toBe('ipv4');
    expect((await run(['--ipv6', 'h', '1'])).f.resolves[0]?.family).toBe('ipv6');
  });

  it('-V and --version print the version, exit 0', async () => {
    for (const flag of ['-V', '--version']) {
      const { code, stdout } = await run([flag]);
      expect(code).toBe(0);
      expect(stdout).toBe('knock 9.9.9\n');
    }
  });

  it('-h and --help teach, with examples and exit codes, exit 0', async () => {
    for (const flag of ['-h', '--help']) {
      const { code, stdout } = await run([flag]);
      expect(code).toBe(0);
      expect(stdout).toContain('Usage: knock [options] HOST [PORT[:PROTO]...]');
      expect(stdout).toContain('-u, --udp');
      expect(stdout).toContain('knock -v -d 200 192.0.2.2 7000:udp 8000 9000');
      expect(stdout).toContain("ProxyCommand='knock proxy %h %p'");
      expect(stdout).toMatch(/ 7 {2}knocked, but the port stayed closed/);
    }
  });

  it('without a host (and not in a terminal) is a usage error', async () => {
    const { code, stderr } = await run([]);
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toContain('knock: no host given');
  });

  it('fails as the resolver and the sender say (resolve 5, network 6)', async () => {
    const resolveError = new KnockError(
      'knock.resolve.failed',
      'cannot resolve host "nx.test": no such name',
      {
        exitCode: ExitCode.resolve,
      },
    );
    const r = await run(['nx.test', '1'], { resolveError });
    expect(r.code).toBe(ExitCode.resolve);
    expect(r.stderr).toBe('knock: cannot resolve host "nx.test": no such name\n');

    const f = fake();
    f.deps.sendKnocks = async () => {
      throw new KnockError(
        'knock.network',
        'cannot send to 192.0.2.2:1: no route to host (EHOSTUNREACH)',
        {
          exitCode: ExitCode.network,
        },
      );
    };
    const n = await run(['h', '1'], f);
    expect(n.code).toBe(ExitCode.network);
    expect(n.stderr).toContain('no route to host');
  });

  it('prints a warning for an address that was skipped', async () => {
    const f = fake();
    f.deps.sendKnocks = async (options) => {
      options.onEvent?.({
        type: 'unreachable',
        address: '2001:db8::2',
        error: new KnockError(
          'knock.network',
          'cannot send to [2001:db8::2]:1: network unreachable',
          {
            exitCode: ExitCode.network,
          },
        ),
      });
    };
    const { code, stderr } = await run(['h', '1'], f);
    expect(code).toBe(0);
    expect(stderr).toBe(
      'knock: warning: skipped 2001:db8::2: cannot send to [2001:db8::2]:1: network unreachable\n',
    );
  });
});

describe('knock HOST (profiles)', () => {
  const profiles = [
    profile('ssh.test', {
      sequence: [tcp(1228), udp(7000)],
      port: 22,
      family: 'ipv4',
      delayMs: 50,
    }),
    profile('ots.test', { oneTimeSequences: '/home/u/ots.txt', port: 2222, verifyTimeoutMs: 9000 }),
  ];

  it("knocks the profile's sequence with its family and delay", async () => {
    const { code, f } = await run(['ssh.test'], { profiles });
    expect(code).toBe(0);
    expect(f.resolves).toEqual([{ host: 'ssh.test', family: 'ipv4' }]);
    expect(f.sends[0]).toMatchObject({ knocks: [tcp(1228), udp(7000)], delayMs: 50 });
    expect(f.verifies).toEqual([]);
  });

  it('command-line flags override the profile', async () => {
    const { f } = await run(['-6', '-u', '-d', '0', 'ssh.test'], { profiles });
    expect(f.resolves[0]?.family).toBe('ipv6');
    expect(f.sends[0]).toMatchObject({ knocks: [udp(1228), udp(7000)], delayMs: 0 });
  });

  it('-c / --config chooses the profile file', async () => {
    const { f } = await run(['-c', '/tmp/p.toml', 'ssh.test'], { profiles });
    expect(f.loads).toEqual([{ path: '/tmp/p.toml' }]);
  });

  it('no profile file: exit 4, saying where profiles are looked for', async () => {
    const { code, stderr, f } = await run(['ssh.test']);
    expect(code).toBe(ExitCode.noProfile);
    expect(stderr).toContain(
      'knock: no profile for "ssh.test" (/home/u/.config/knock/config.toml does not exist; profiles are read from $KNOCK_CONFIG, else $XDG_CONFIG_HOME/knock/config.toml)',
    );
    expect(stderr).toContain('hint: add [hosts."ssh.test"]');
    expect(f.sends).toEqual([]);
  });

  it('a profile file without that host: exit 4 naming the file', async () => {
    const { code, stderr } = await run(['other.test'], { profiles });
    expect(code).toBe(ExitCode.noProfile);
    expect(stderr).toContain('no profile for "other.test" in /home/u/.config/knock/config.toml');
    expect(stderr).toContain('knock other.test PORT...');
  });

  it('a one-time sequence is taken from the file and knocked', async () => {
    const { code, f, stderr } = await run(['ots.test'], {
      profiles,
      ots: { next: [tcp(4001), udp(4002)], remaining: 5 },
    });
    expect(code).toBe(0);
    expect(f.otsTaken).toEqual(['/home/u/ots.txt']);
    expect(f.sends[0]?.knocks).toEqual([tcp(4001), udp(4002)]);
    expect(stderr).toBe('');
  });

  it('using the last one-time sequence warns', async () => {
    const { code, stderr } = await run(['ots.test'], {
      profiles,
      ots: { next: [tcp(4001)], remaining: 0 },
    });
    expect(code).toBe(0);
    expect(stderr).toContain('that was the last unused sequence in /home/u/ots.txt');
  });

  it('an exhausted one-time file: its exit code, nothing sent', async () => {
    const { code, stderr, f } = await run(['ots.test'], {
      profiles,
      ots: new KnockError('ots.exhausted', '/home/u/ots.txt has no unused sequence left', {
        exitCode: ExitCode.otsExhausted,
      }),
    });
    expect(code).toBe(ExitCode.otsExhausted);
    expect(stderr).toContain('no unused sequence left');
    expect(f.sends).toEqual([]);
  });

  it("prints the profile file's warnings", async () => {
    const { code, stderr } = await run(['ssh.test'], {
      profiles,
      warnings: [
        {
          severity: 'warning',
          code: 'profile.unknownKey',
          message: 'unknown key "colour"',
          file: '/home/u/.config/knock/config.toml',
          line: 4,
          column: 1,
        },
      ],
    });
    expect(code).toBe(0);
    expect(stderr).toBe(
      'knock: /home/u/.config/knock/config.toml:4:1: warning: unknown key "colour"\n',
    );
  });

  it('explicit ports do not read the profile file at all', async () => {
    const f = fake({ profiles });
    f.deps.loadProfiles = async () => {
      throw new Error('must not be read');
    };
    const { code } = await run(['ssh.test', '1'], f);
    expect(code).toBe(0);
  });
});

describe('knock --verify', () => {
  const profiles = [
    profile('ssh.test', { sequence: [tcp(1228)], port: 22, verifyTimeoutMs: 8000 }),
  ];

  it('waits for the profile port and says it is open (exit 0)', async () => {
    const { code, stdout, f } = await run(['--verify', 'ssh.test'], { profiles });
    expect(code).toBe(0);
    expect(f.verifies[0]).toMatchObject({ addresses: ['192.0.2.2'], port: 22, timeoutMs: 8000 });
    expect(stdout).toBe('port 22 is open on 192.0.2.2 (after 0.3 s)\n');
  });

  it('takes an explicit port and --timeout', async () => {
    const { f } = await run(['h', '1228', '--verify', '2222', '--timeout', '2.5']);
    expect(f.verifies[0]).toMatchObject({ port: 2222, timeoutMs: 2500 });
    const eq = await run(['--verify=2223', 'h', '1228']);
    expect(eq.f.verifies[0]).toMatchObject({ port: 2223, timeoutMs: 5000 });
  });

  it('--verify HOST PORT… reads HOST as the host, not as the port', async () => {
    const { code, f } = await run(['--verify', 'ssh.test', '1228', '1227'], { profiles });
    expect(code).toBe(0);
    expect(f.resolves[0]?.host).toBe('ssh.test');
    expect(f.sends[0]?.knocks).toEqual([tcp(1228), tcp(1227)]);
    expect(f.verifies[0]?.port).toBe(22);
  });

  it('a port that stays closed: exit 7 and a message that says so', async () => {
    const refused = await run(['--verify', 'ssh.test'], { profiles, verify: { state: 'closed' } });
    expect(refused.code).toBe(ExitCode.closed);
    expect(refused.stderr).toContain(
      'knock: knocked ssh.test, but 192.0.2.2:22 is still closed after 8 s (connection refused)',
    );
    const dropped = await run(['h', '1', '--verify', '22', '--timeout', '1'], {
      verify: { state: 'timeout' },
      addresses: { h: ['2001:db8::2', '192.0.2.2'] },
    });
    expect(dropped.code).toBe(ExitCode.closed);
    expect(dropped.stderr).toContain(
      'knocked h, but port 22 of h (2001:db8::2, 192.0.2.2) is still closed after 1 s (no answer)',
    );
  });

  it('-v narrates the verification on stdout', async () => {
    const { stdout } = await run(['-v', '--verify', 'ssh.test'], { profiles });
    expect(stdout).toBe('hitting tcp 192.0.2.2:1228\nport 22 is open on 192.0.2.2 (after 0.3 s)\n');
  });

  // issue 9 item 10
  it('-c naming a file that does not exist is exit 3, also when the ports are given', async () => {
    for (const argv of [
      ['-c', '/tmp/missing.toml', 'ssh.test'],
      ['-c', '/tmp/missing.toml', 'ssh.test', '1228'],
      ['ssh.test', '1228', '--config=/tmp/missing.toml'],
    ]) {
      const { code, stderr, f } = await run(argv, { profileFileExists: false });
      expect(code, argv.join(' ')).toBe(3);
      expect(stderr).toBe(
        'knock: the profile file /tmp/missing.toml (named by -c/--config) does not exist\n' +
          '  hint: check the file name; leave out -c to use the usual profile file (see knock list)\n',
      );
      expect(f.sends).toEqual([]);
    }
  });

  // issue 9 item 13
  it('--verify takes a service name as its value: --verify ssh 127.0.0.1 1228', async () => {
    const { code, f } = await run(['--verify', 'ssh', '127.0.0.1', '1228']);
    expect(code).toBe(0);
    expect(f.resolves).toEqual([{ host: '127.0.0.1', family: 'any' }]);
    expect(f.sends[0]?.knocks).toEqual([tcp(1228)]);
    expect(f.verifies.map((v) => v.port)).toEqual([22]);
    const eq = await run(['--verify=ssh', 'ssh.test'], { profiles });
    expect(eq.f.verifies.map((v) => v.port)).toEqual([22]);
    // A value that is not a service is the host, as before.
    const host = await run(['--verify', 'ssh.test'], { profiles });
    expect(host.f.resolves[0]?.host).toBe('ssh.test');
  });

  it('--verify without a port and no profile port is a usage error, before knocking', async () => {
    const noProfile = await run(['h', '1228', '--verify']);
    expect(noProfile.code).toBe(ExitCode.usage);
    expect(noProfile.stderr).toContain('--verify needs a port for "h"');
    expect(noProfile.f.sends).toEqual([]);
    const noPort = await run(['--verify', 'p.test'], {
      profiles: [profile('p.test', { sequence: [tcp(1)] })],
    });
    expect(noPort.code).toBe(ExitCode.usage);
    expect(noPort.f.sends).toEqual([]);
  });
});
