import { describe, expect, it } from 'vitest';
import { ExitCode } from '@knock/shared';
import type { Exec, ExecResult } from '../../src/firewall/types.js';
import { runFw } from './run-fw.js';

const CONF = `[options]
  UseSyslog
  Firewall = nftables
  Trusted_File = /etc/knockd/knockd.trusted

[opencloseSSH]
  Sequence = 1228,1227
  Seq_Timeout = 15
  TCPFlags = syn
  Open_Ports = 22/tcp, 2222/tcp
  Open_Timeout = 300

[banned1]
  Sequence = 1220,1221
  Ban = 3600
`;
const TRUSTED = 'trusted.example # a name\n198.51.100.0/24\n';

function files(map: Record<string, string>) {
  return async (path: string) => {
    const text = map[path];
    if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return text;
  };
}

/** nft that knows no table yet (status: not set up) and records what it was asked. */
function fakeNft(opts: { tableExists?: boolean } = {}) {
  const runs: string[] = [];
  const exec: Exec = async (file, args, o = {}): Promise<ExecResult> => {
    runs.push([file, ...args].join(' ') + (o.input ? `\n${o.input}` : ''));
    if (args[0] === '--version') return { code: 0, stdout: 'nftables v1.0.6\n', stderr: '' };
    if (args.includes('list'))
      return opts.tableExists
        ? { code: 0, stdout: '{"nftables": []}', stderr: '' }
        : { code: 1, stdout: '', stderr: 'Error: No such file or directory' };
    return { code: 0, stdout: '', stderr: '' };
  };
  return { exec, runs };
}

const base = {
  readFile: files({ '/etc/knockd.conf': CONF, '/etc/knockd/knockd.trusted': TRUSTED }),
  lookup: async (name: string) =>
    name === 'trusted.example' ? ['192.0.2.80', '2001:db8::80'] : [],
  detect: async () => 'nftables' as const,
};

describe('knock-server fw (dry run: prints, changes nothing)', () => {
  it("setup prints the whole transaction: doors' Open_Ports protected, trusted names resolved", async () => {
    const { exec, runs } = fakeNft();
    const r = await runFw(['setup', '--dry-run'], { ...base, exec });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('add element inet knock protected { tcp . 22, tcp . 2222 }');
    expect(r.stdout).toContain('add element inet knock trusted4 { 192.0.2.80, 198.51.100.0/24 }');
    expect(r.stdout).toContain('add element inet knock trusted6 { 2001:db8::80 }');
    expect(runs.filter((x) => x.startsWith('nft -f'))).toEqual([]);
  });

  it('accept before setup prints the setup too, then the grant; --for sets the time', async () => {
    const { exec } = fakeNft();
    const r = await runFw(['accept', '2001:DB8::7', '--for', '60', '--dry-run'], { ...base, exec });
    expect(r.code).toBe(0);
    expect(r.stdout.indexOf('add table inet knock')).toBeLessThan(r.stdout.indexOf('granted6'));
    expect(r.stdout).toContain(
      'add element inet knock granted6 { 2001:db8::7 . tcp . 2222 timeout 60s }',
    );
  });

  it("options go before or after the action, and --port replaces the doors' ports", async () => {
    const { exec } = fakeNft({ tableExists: true });
    const r = await runFw(
      ['--dry-run', 'accept', '192.0.2.7', '--port', '443/tcp', '-c', '/etc/knockd.conf'],
      {
        ...base,
        exec,
      },
    );
    expect(r.stdout).toBe(
      'add element inet knock granted4 { 192.0.2.7 . tcp . 443 }\n' +
        'delete element inet knock granted4 { 192.0.2.7 . tcp . 443 }\n' +
        'add element inet knock granted4 { 192.0.2.7 . tcp . 443 timeout 300s }\n',
    );
  });

  it("iptables backend with the seed's chain names prints argv", async () => {
    const exec: Exec = async (_f, args) => ({
      code: 0,
      stdout: args.includes('-S')
        ? '-P INPUT ACCEPT\n-N ssh_policy\n-A INPUT -p tcp -m tcp --dport 22 -j ssh_policy\n'
        : 'iptables v1.8.9\n',
      stderr: '',
    });
    const r = await runFw(
      ['drop', '192.0.2.66', '--backend', 'iptables', '--chain-prefix', 'ssh', '--dry-run'],
      {
        ...base,
        exec,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('iptables -w 5 -I ssh_banned -s 192.0.2.66 -j DROP\n');
  });
});

describe('knock-server fw errors', () => {
  it.each([
    [['accept', '192.0.2.300'], "invalid address '192.0.2.300'"],
    [['drop', 'ssh.example.org'], "invalid address 'ssh.example.org'"],
    [['trust', '10.0.0.0/40'], "invalid address or CIDR '10.0.0.0/40'"],
    [['flush', 'addr', '::g'], "invalid address '::g'"],
    [['flush', 'addr'], 'flush addr needs an address'],
    [['flush', 'nonsense', 'x'], "unknown flush target 'nonsense'"],
  ])('%j is a usage error naming the value', async (args, message) => {
    const { exec, runs } = fakeNft();
    const r = await runFw(args, { ...base, exec });
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain(message);
    expect(runs.filter((x) => x.startsWith('nft -f'))).toEqual([]);
  });

  it('a bad --for or --port is a usage error', async () => {
    expect((await runFw(['accept', '192.0.2.1', '--for', 'soon'], base)).code).toBe(ExitCode.usage);
    const r = await runFw(['setup', '--port', '22/icmp'], base);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain('"22/icmp" is not a port');
  });

  it('bad trusted-file lines are listed with file:line and nothing changes', async () => {
    const { exec, runs } = fakeNft();
    const r = await runFw(['setup'], {
      ...base,
      exec,
      readFile: files({
        '/etc/knockd.conf': CONF,
        '/etc/knockd/knockd.trusted': '192.0.2.1\n29.123.4.0/33 #\n',
      }),
    });
    expect(r.code).toBe(ExitCode.config);
    expect(r.stderr).toContain(
      "/etc/knockd/knockd.trusted:2:1: error: invalid CIDR '29.123.4.0/33'",
    );
    expect(runs.filter((x) => x.startsWith('nft -f'))).toEqual([]);
  });

  it('a name in the trusted file that does not resolve is reported, the rest still load', async () => {
    const { exec, runs } = fakeNft();
    const r = await runFw(['setup'], { ...base, exec, lookup: async () => [] });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("host name 'trusted.example' does not resolve");
    expect(runs.join('\n')).toContain('trusted4 { 198.51.100.0/24 }');
  });

  it('nft missing is a firewall error with what to do', async () => {
    const exec: Exec = async () => ({ code: 127, stdout: '', stderr: 'nft: command not found' });
    const r = await runFw(['setup'], { ...base, exec });
    expect(r.code).toBe(ExitCode.firewall);
    expect(r.stderr).toContain('nft is not installed');
    expect(r.stderr).toContain('apt-get install nftables');
  });

  it('nft refusing a change passes its stderr through', async () => {
    const exec: Exec = async (_f, args) =>
      args[0] === '-f'
        ? {
            code: 1,
            stdout: '',
            stderr: '/dev/stdin:3:1-20: Error: Could not process rule: No buffer space',
          }
        : { code: 0, stdout: '{"nftables": []}', stderr: '' };
    const r = await runFw(['setup'], { ...base, exec });
    expect(r.code).toBe(ExitCode.firewall);
    expect(r.stderr).toContain('Could not process rule: No buffer space');
  });

  it('a config with errors is reported and nothing changes; -c FILE that is missing is an error', async () => {
    const { exec } = fakeNft();
    const bad = await runFw(['setup'], {
      ...base,
      exec,
      readFile: files({ '/etc/knockd.conf': '[d]\nSequence = 0\n' }),
    });
    expect(bad.code).toBe(ExitCode.config);
    expect(bad.stderr).toContain('/etc/knockd.conf:2');
    const missing = await runFw(['list', '-c', '/nope.conf'], { ...base, exec });
    expect(missing.code).toBe(ExitCode.config);
    expect(missing.stderr).toContain('cannot read config /nope.conf (ENOENT)');
  });

  it('Firewall = none in the config refuses, naming the setting', async () => {
    const r = await runFw(['list'], {
      ...base,
      readFile: files({ '/etc/knockd.conf': '[options]\nFirewall = none\n' }),
    });
    expect(r.code).toBe(ExitCode.firewall);
    expect(r.stderr).toContain('Firewall = none in /etc/knockd.conf');
  });

  it('Firewall = none: status does not tell to install nftables, which is there (issue 9 item 13)', async () => {
    const r = await runFw(['status'], {
      ...base,
      detect: async () => 'nftables',
      readFile: files({ '/etc/knockd.conf': '[options]\nFirewall = none\n' }),
    });
    expect(r.code).toBe(ExitCode.firewall);
    expect(r.stderr).not.toContain('install nftables');
    expect(r.stderr).toContain('write Firewall = nftables (or iptables) in /etc/knockd.conf');
    const missing = await runFw(['status'], {
      ...base,
      detect: async () => 'none',
      readFile: files({}),
    });
    expect(missing.stderr).toContain('install nftables');
  });

  it("reads no door's secret file: a rotating door whose secret is missing does not stop fw", async () => {
    const { exec } = fakeNft();
    const conf =
      '[ssh]\n  Sequence_Secret_File = /nonexistent/knock-test/ssh.secret\n  Open_Ports = 2222/tcp\n';
    const r = await runFw(['setup', '--dry-run'], {
      ...base,
      exec,
      readFile: files({ '/etc/knockd.conf': conf }),
    });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('protected { tcp . 2222 }');
  });

  it('two doors opening the same port: setup names it once', async () => {
    const { exec } = fakeNft();
    const conf =
      '[a]\n  Sequence = 1\n  Open_Ports = 22/tcp\n[b]\n  Sequence = 2\n  Open_Ports = 22/tcp\n';
    const r = await runFw(['setup'], {
      ...base,
      exec,
      readFile: files({ '/etc/knockd.conf': conf }),
    });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('nftables: protecting 22/tcp (NEW connections)');
  });

  it("without a config, setup protects the seed's 22/tcp and says so", async () => {
    const { exec } = fakeNft();
    const r = await runFw(['setup', '--dry-run'], { ...base, exec, readFile: files({}) });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('protecting 22/tcp');
    expect(r.stdout).toContain('protected { tcp . 22 }');
  });
});
