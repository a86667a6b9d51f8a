import { describe, expect, it } from 'vitest';
import { ExitCode } from '@knock/shared';
import { profile, run, tcp, udp } from '../helpers/fake-deps.js';

const sshG = (lines: Record<string, string>) => ({
  code: 0,
  stdout: Object.entries({
    host: 'lab',
    user: 'me',
    hostname: 'lab.test',
    port: '22',
    addressfamily: 'any',
    ...lines,
  })
    .map(([k, v]) => `${k} ${v}`)
    .join('\n'),
});

const profiles = [profile('lab.test', { sequence: [tcp(1228), tcp(1227)], port: 22 })];

describe('knock ssh', () => {
  it('asks ssh -G, knocks the profile, waits for the port, runs ssh on the address that opened', async () => {
    const { code, f } = await run(['ssh', '-p', '22', 'me@lab', 'uptime'], {
      profiles,
      sshG: sshG({}),
      addresses: { 'lab.test': ['2001:db8::2', '192.0.2.2'] },
      verify: { state: 'open', address: '192.0.2.2', elapsedMs: 10 },
    });
    expect(code).toBe(0);
    expect(f.captured).toEqual([{ command: 'ssh', args: ['-G', '-p', '22', 'me@lab', 'uptime'] }]);
    expect(f.resolves).toEqual([{ host: 'lab.test', family: 'any' }]);
    expect(f.sends[0]?.knocks).toEqual([tcp(1228), tcp(1227)]);
    expect(f.verifies[0]).toMatchObject({ addresses: ['2001:db8::2', '192.0.2.2'], port: 22 });
    expect(f.interactive).toEqual([
      {
        command: 'ssh',
        args: [
          '-o',
          'HostName=192.0.2.2',
          '-o',
          'HostKeyAlias=lab.test',
          '-p',
          '22',
          'me@lab',
          'uptime',
        ],
      },
    ]);
  });

  it("exits with ssh's status", async () => {
    const { code } = await run(['ssh', 'lab'], { profiles, sshG: sshG({}), sshStatus: 130 });
    expect(code).toBe(130);
  });

  it('keeps the known_hosts name of a non-standard port, and an existing HostKeyAlias', async () => {
    const other = await run(['ssh', 'lab'], { profiles, sshG: sshG({ port: '2222' }) });
    expect(other.f.interactive[0]?.args.slice(0, 4)).toEqual([
      '-o',
      'HostName=192.0.2.2',
      '-o',
      'HostKeyAlias=[lab.test]:2222',
    ]);
    expect(other.f.verifies[0]?.port).toBe(2222);
    const alias = await run(['ssh', 'lab'], { profiles, sshG: sshG({ hostkeyalias: 'mine' }) });
    expect(alias.f.interactive[0]?.args).toEqual(['-o', 'HostName=192.0.2.2', 'lab']);
  });

  it("follows ssh's AddressFamily", async () => {
    const v4 = await run(['ssh', '-4', 'lab'], { profiles, sshG: sshG({ addressfamily: 'inet' }) });
    expect(v4.f.resolves[0]?.family).toBe('ipv4');
    const v6 = await run(['ssh', 'lab'], { profiles, sshG: sshG({ addressfamily: 'inet6' }) });
    expect(v6.f.resolves[0]?.family).toBe('ipv6');
  });

  it('finds the profile by the alias typed when none matches the HostName', async () => {
    const { code, f } = await run(['ssh', 'lab'], {
      profiles: [profile('lab', { sequence: [udp(9)] })],
      sshG: sshG({}),
    });
    expect(code).toBe(0);
    expect(f.sends[0]?.knocks).toEqual([udp(9)]);
  });

  it('--sequence knocks those ports without a profile; -- and short options go to ssh', async () => {
    const { code, f } = await run(['ssh', '--sequence', '1,2:udp', '--', '-v', 'lab'], {
      sshG: sshG({}),
    });
    expect(code).toBe(0);
    expect(f.loads).toEqual([]);
    expect(f.sends[0]?.knocks).toEqual([tcp(1), udp(2)]);
    expect(f.captured[0]?.args).toEqual(['-G', '-v', 'lab']);
  });

  it('--timeout and --verbose', async () => {
    const { f, stderr } = await run(['ssh', '--timeout', '3', '--verbose', 'lab'], {
      profiles,
      sshG: sshG({}),
    });
    expect(f.verifies[0]?.timeoutMs).toBe(3000);
    expect(stderr).toContain('hitting tcp 192.0.2.2:1228');
    expect(stderr).toContain(
      'knock: running ssh -o HostName=192.0.2.2 -o HostKeyAlias=lab.test lab',
    );
  });

  it('does not knock twice when ssh itself uses knock proxy', async () => {
    const { f } = await run(['ssh', 'lab'], {
      profiles,
      sshG: sshG({ proxycommand: 'knock proxy %h %p' }),
    });
    expect(f.sends).toEqual([]);
    expect(f.interactive[0]?.args).toEqual(['lab']);
  });

  it('with another ProxyCommand/ProxyJump it knocks but leaves HostName alone', async () => {
    const { f } = await run(['ssh', 'lab'], { profiles, sshG: sshG({ proxyjump: 'gw' }) });
    expect(f.sends).toHaveLength(1);
    expect(f.interactive[0]?.args).toEqual(['lab']);
  });

  it('a port that stays closed: exit 7, ssh not started', async () => {
    const { code, stderr, f } = await run(['ssh', 'lab'], {
      profiles,
      sshG: sshG({}),
      verify: { state: 'timeout' },
    });
    expect(code).toBe(ExitCode.closed);
    expect(stderr).toContain(
      'knocked lab.test, but 192.0.2.2:22 is still closed after 5 s (no answer)',
    );
    expect(f.interactive).toEqual([]);
  });

  it('no profile: exit 4, naming --sequence', async () => {
    const { code, stderr } = await run(['ssh', 'lab'], { sshG: sshG({}) });
    expect(code).toBe(ExitCode.noProfile);
    expect(stderr).toContain('no profile for "lab.test"');
    expect(stderr).toContain('knock ssh --sequence');
  });

  it.each([
    [['ssh'], 'knock ssh needs the ssh arguments'],
    [['ssh', '--sequence', '1,,2', 'lab'], '--sequence: empty element'],
    [['ssh', '--sequence', '99999', 'lab'], '--sequence: port 99999 is out of range'],
    [['ssh', '--timeout', '-1', 'lab'], '--timeout wants a number of seconds'],
  ])('%j is a usage error', async (argv, message) => {
    const { code, stderr, f } = await run(argv, { profiles, sshG: sshG({}) });
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toContain(message);
    expect(f.sends).toEqual([]);
  });

  // issue 9 item 13
  it.each([
    [['ssh', '--bogus', 'lab'], 'unknown option --bogus for knock ssh'],
    [['ssh', '-p', '2222', '--bogus=1', 'lab'], 'unknown option --bogus for knock ssh'],
    [['ssh', 'lab', '--bogus'], 'unknown option --bogus for knock ssh'],
    [
      ['ssh', '-l', 'me', 'lab', '--timeout', '3'],
      '--timeout must come before the ssh arguments (knock ssh --timeout ... HOST)',
    ],
  ])('%j names the long option itself, and ssh -G is not run', async (argv, message) => {
    const { code, stderr, f } = await run(argv, { profiles, sshG: sshG({}) });
    expect(code).toBe(ExitCode.usage);
    expect(stderr.split('\n')[0]).toBe(`knock: ${message}`);
    expect(stderr).not.toContain('unknown option -- -');
    expect(f.captured).toEqual([]);
    expect(f.sends).toEqual([]);
  });

  it.each([
    [['ssh', 'lab', 'ls', '--all']],
    [['ssh', '-o', '--weird', 'lab']],
    [['ssh', '--', '-v', 'lab', 'echo', '--x']],
    [['ssh', '-E', '--log', 'lab']],
  ])('%j: a long word where ssh does not read options is passed on', async (argv) => {
    const { code, f } = await run(argv, { profiles, sshG: sshG({}) });
    expect(code).toBe(0);
    expect(f.captured).toHaveLength(1);
  });

  it("ssh -G failing is a usage error with ssh's message", async () => {
    const { code, stderr } = await run(['ssh', '-Z', 'lab'], {
      sshG: { code: 255, stdout: '', stderr: 'ssh: illegal option -- Z\nusage: ssh ...' },
    });
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toContain('knock: ssh -G -Z lab failed: ssh: illegal option -- Z');
  });

  it('ssh missing: exit 14', async () => {
    const { fake } = await import('../helpers/fake-deps.js');
    const f = fake({ profiles });
    f.deps.capture = async () => {
      throw Object.assign(new Error('spawn ssh ENOENT'), { code: 'ENOENT' });
    };
    const { code, stderr } = await run(['ssh', 'lab'], f);
    expect(code).toBe(ExitCode.exec);
    expect(stderr).toContain('cannot run ssh: not found in PATH');
  });

  it("--help is knock ssh's; -h goes to ssh", async () => {
    const help = await run(['ssh', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: knock ssh [--sequence SEQ]');
    const h = await run(['ssh', '-h'], { sshG: { code: 255, stdout: '', stderr: 'usage: ssh' } });
    expect(h.f.captured[0]?.args).toEqual(['-G', '-h']);
  });
});
