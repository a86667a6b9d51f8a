// The iptables backend without root: an in-memory iptables/ip6tables that answers -S and
// applies -N/-F/-X/-A/-I/-D as the real tools do (test/firewall/iptables.test.ts runs the
// real ones in a namespace).
import { describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import { createFirewall } from '../../src/firewall/create.js';
import type { Exec, ExecResult, FirewallSpec } from '../../src/firewall/types.js';

const SPEC: FirewallSpec = {
  protectedPorts: [
    { port: 22, protocol: 'tcp' },
    { port: 53, protocol: 'udp' },
  ],
  trusted: ['192.0.2.8/30', '2001:db8::a0/124'],
};
const NOW = Date.parse('2026-12-02T10:00:00Z');
const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });

/** One family's tables: chain name → rules (argv after `-A CHAIN`). */
type Tables = Map<string, string[][]>;
const quote = (a: string) => (/^[^\s"]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`);

/** A fake iptables + ip6tables. `fail` answers a command instead of running it. */
function fakeIptables(fail?: (tool: string, args: readonly string[]) => ExecResult | undefined) {
  const tables: Record<string, Tables> = {
    iptables: new Map([['INPUT', []]]),
    ip6tables: new Map([['INPUT', []]]),
  };
  const changes: string[] = [];
  const exec: Exec = async (tool, argv) => {
    const failed = fail?.(tool, argv);
    if (failed) return failed;
    const t = tables[tool];
    if (!t) throw new Error(`unexpected program ${tool}`);
    if (argv[0] === '--version') return ok(`${tool} v1.8.9 (nf_tables)\n`);
    expect(argv.slice(0, 2)).toEqual(['-w', '5']);
    const [op, chain, ...rest] = argv.slice(2);
    if (op === '-S')
      return ok(
        [...t]
          .flatMap(([name, rules]) => [
            name === 'INPUT' ? '-P INPUT ACCEPT' : `-N ${name}`,
            ...rules.map((r) => `-A ${name} ${r.map(quote).join(' ')}`),
          ])
          .join('\n') + '\n',
      );
    changes.push(`${tool} ${argv.slice(2).join(' ')}`);
    const rules = t.get(chain!);
    const missing = {
      code: 1,
      stdout: '',
      stderr: `iptables: No chain/target/match by that name.`,
    };
    switch (op) {
      case '-N':
        t.set(chain!, []);
        return ok();
      case '-F':
        if (!rules) return missing;
        rules.length = 0;
        return ok();
      case '-X':
        t.delete(chain!);
        return ok();
      case '-A':
        rules!.push(rest);
        return ok();
      case '-I': {
        const at = /^\d+$/.test(rest[0]!) ? Number(rest.shift()) - 1 : 0;
        rules!.splice(at, 0, rest);
        return ok();
      }
      case '-D': {
        const i = rules?.findIndex((r) => r.join(' ') === rest.join(' ')) ?? -1;
        if (i < 0) return missing;
        rules!.splice(i, 1);
        return ok();
      }
    }
    throw new Error(`unexpected ${argv.join(' ')}`);
  };
  const chain = (tool: string, name: string) => tables[tool]!.get(name)?.map((r) => r.join(' '));
  return { exec, tables, changes, chain };
}

function setUp(opts: { now?: () => number; fail?: Parameters<typeof fakeIptables>[0] } = {}) {
  const fake = fakeIptables(opts.fail);
  const fw = createFirewall('iptables', { exec: fake.exec, now: opts.now ?? (() => NOW) });
  return { ...fake, fw };
}

describe('IptablesFirewall (in-memory iptables)', () => {
  it("setup builds the seed's chains in both families, trusted networks by family, INPUT jumps for NEW connections", async () => {
    const { fw, chain, tables } = setUp();
    await fw.setup(SPEC);
    for (const tool of ['iptables', 'ip6tables']) {
      expect([...tables[tool]!.keys()].sort()).toEqual(
        ['INPUT', 'knock_banned', 'knock_filter', 'knock_policy', 'knock_trusted'].sort(),
      );
      expect(chain(tool, 'knock_policy')!.map((r) => /(?:^| )-j (\S+)/.exec(r)?.[1])).toEqual([
        'knock_banned',
        'knock_trusted',
        'knock_filter',
        'LOG',
        'DROP',
      ]);
      expect(chain(tool, 'INPUT')).toEqual([
        '-p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j knock_policy',
        '-p udp -m udp --dport 53 -m conntrack --ctstate NEW -j knock_policy',
      ]);
    }
    expect(chain('iptables', 'knock_trusted')).toEqual(['-s 192.0.2.8/30 -j ACCEPT']);
    expect(chain('ip6tables', 'knock_trusted')).toEqual(['-s 2001:db8::a0/124 -j ACCEPT']);
  });

  it('setup twice leaves INPUT alone; a changed port list replaces the jumps', async () => {
    const { fw, changes, chain } = setUp();
    await fw.setup(SPEC);
    changes.length = 0;
    await fw.setup(SPEC);
    expect(changes.filter((c) => c.includes('INPUT'))).toEqual([]);
    await fw.setup({ ...SPEC, protectedPorts: [{ port: 2222, protocol: 'tcp' }] });
    expect(chain('iptables', 'INPUT')).toEqual([
      '-p tcp -m tcp --dport 2222 -m conntrack --ctstate NEW -j knock_policy',
    ]);
  });

  it('a grant is one rule per port with a UTC datestop; granting again refreshes it, never duplicates', async () => {
    let now = NOW;
    const { fw, chain } = setUp({ now: () => now });
    await fw.setup(SPEC);
    await fw.grant('192.0.2.1', SPEC.protectedPorts, 300);
    expect(chain('iptables', 'knock_filter')).toEqual([
      '-s 192.0.2.1 -p udp -m udp --dport 53 -m time --datestop 2026-12-02T10:04:59 -j ACCEPT',
      '-s 192.0.2.1 -p tcp -m tcp --dport 22 -m time --datestop 2026-12-02T10:04:59 -j ACCEPT',
    ]);
    now += 60_000;
    await fw.grant('192.0.2.1', [{ port: 22, protocol: 'tcp' }], 300);
    expect(chain('iptables', 'knock_filter')).toEqual([
      '-s 192.0.2.1 -p tcp -m tcp --dport 22 -m time --datestop 2026-12-02T10:05:59 -j ACCEPT',
      '-s 192.0.2.1 -p udp -m udp --dport 53 -m time --datestop 2026-12-02T10:04:59 -j ACCEPT',
    ]);
    await fw.grant('2001:db8::1', [{ port: 22, protocol: 'tcp' }], 0);
    expect(chain('ip6tables', 'knock_filter')).toEqual([
      '-s 2001:db8::1 -p tcp -m tcp --dport 22 -j ACCEPT',
    ]);
  });

  it('list shows grants, bans and trusted networks with what remains, and tidies expired rules', async () => {
    let now = NOW;
    const { fw, chain } = setUp({ now: () => now });
    await fw.setup(SPEC);
    await fw.grant('192.0.2.1', [{ port: 22, protocol: 'tcp' }], 60);
    await fw.ban('192.0.2.66', 0);
    expect(await fw.list()).toEqual([
      { kind: 'grant', address: '192.0.2.1', port: { port: 22, protocol: 'tcp' }, remaining: 60 },
      { kind: 'trusted', address: '192.0.2.8/30' },
      { kind: 'ban', address: '192.0.2.66' },
      { kind: 'trusted', address: '2001:db8::a0/124' },
    ]);
    now += 61_000;
    expect((await fw.list()).map((e) => e.kind)).toEqual(['trusted', 'ban', 'trusted']);
    expect(chain('iptables', 'knock_filter')).toEqual([]);
  });

  it('ban replaces an earlier ban of the address; unban, revoke and flush remove them', async () => {
    const { fw, chain } = setUp();
    await fw.setup(SPEC);
    await fw.ban('192.0.2.66', 3600);
    await fw.ban('192.0.2.66', 0);
    expect(chain('iptables', 'knock_banned')).toEqual(['-s 192.0.2.66 -j DROP']);
    await fw.unban('192.0.2.66');
    expect(chain('iptables', 'knock_banned')).toEqual([]);
    await fw.grant('192.0.2.1', SPEC.protectedPorts, 0);
    await fw.revoke('192.0.2.1');
    expect(chain('iptables', 'knock_filter')).toEqual([]);
    await fw.grant('192.0.2.1', SPEC.protectedPorts, 0);
    await fw.ban('2001:db8::66', 0);
    await fw.flushGrants();
    await fw.flushBans();
    expect(chain('iptables', 'knock_filter')).toEqual([]);
    expect(chain('ip6tables', 'knock_banned')).toEqual([]);
  });

  it('trust adds a network once, in its family', async () => {
    const { fw, chain } = setUp();
    await fw.setup({ ...SPEC, trusted: [] });
    await fw.trust('198.51.100.0/24');
    await fw.trust('198.51.100.0/24');
    expect(chain('iptables', 'knock_trusted')).toEqual(['-s 198.51.100.0/24 -j ACCEPT']);
    expect(chain('ip6tables', 'knock_trusted')).toEqual([]);
  });

  it('status: version, protected ports, counts; teardown removes every chain and jump', async () => {
    const { fw, tables } = setUp();
    expect(await fw.status()).toMatchObject({ kind: 'iptables', active: false });
    await fw.setup(SPEC);
    await fw.grant('192.0.2.1', [{ port: 22, protocol: 'tcp' }], 60);
    const status = await fw.status();
    expect(status).toMatchObject({ active: true, grants: 1, bans: 0, trusted: 2 });
    expect(status.protectedPorts).toEqual(SPEC.protectedPorts);
    expect(status.detail).toContain('iptables v1.8.9');
    await fw.teardown();
    for (const tool of ['iptables', 'ip6tables']) {
      expect([...tables[tool]!.keys()]).toEqual(['INPUT']);
      expect(tables[tool]!.get('INPUT')).toEqual([]);
    }
  });

  it('refuses to grant, ban or trust before setup, naming the missing chain', async () => {
    const { fw } = setUp();
    const error = await fw.grant('192.0.2.1', SPEC.protectedPorts, 60).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KnockError);
    expect(error).toMatchObject({ code: 'firewall.notSetUp', exitCode: ExitCode.firewall });
    expect((error as KnockError).hint).toContain('knock_policy');
    await expect(fw.ban('192.0.2.1', 0)).rejects.toMatchObject({ code: 'firewall.notSetUp' });
    await expect(fw.trust('192.0.2.0/24')).rejects.toMatchObject({ code: 'firewall.notSetUp' });
  });

  it('checks addresses, ports and durations before running anything', async () => {
    const { fw, changes } = setUp();
    await expect(async () =>
      fw.grant('not-an-address', SPEC.protectedPorts, 60),
    ).rejects.toMatchObject({
      code: 'firewall.badAddress',
      exitCode: ExitCode.usage,
    });
    await expect(async () =>
      fw.grant('192.0.2.1', [{ port: 0, protocol: 'tcp' }], 60),
    ).rejects.toMatchObject({
      code: 'firewall.badPort',
    });
    await expect(async () => fw.ban('192.0.2.1', -1)).rejects.toMatchObject({
      code: 'firewall.badSeconds',
    });
    await expect(async () =>
      fw.setup({ ...SPEC, trusted: ['192.0.2.0/33'] }),
    ).rejects.toMatchObject({
      code: 'firewall.badAddress',
    });
    expect(changes).toEqual([]);
  });

  it('a missing tool, and a refused one, are clear errors (exit 10) with what to do', async () => {
    const missing = setUp({
      fail: () => ({ code: 127, stdout: '', stderr: 'iptables: command not found' }),
    });
    await expect(missing.fw.setup(SPEC)).rejects.toMatchObject({
      code: 'firewall.iptablesMissing',
      message: 'iptables is not installed',
      exitCode: ExitCode.firewall,
    });
    const hidden = setUp({
      fail: () => ({
        code: 127,
        stdout: '',
        stderr: 'iptables: not on PATH (/bin), but installed in /usr/sbin: add /usr/sbin to PATH\n',
      }),
    });
    await expect(hidden.fw.list()).rejects.toMatchObject({
      message: 'iptables: not on PATH (/bin), but installed in /usr/sbin: add /usr/sbin to PATH',
    });
    const denied = setUp({
      fail: (_tool, args) =>
        args.includes('-N')
          ? {
              code: 4,
              stdout: '',
              stderr:
                'iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n',
            }
          : undefined,
    });
    const error = (await denied.fw.setup(SPEC).catch((e: unknown) => e)) as KnockError;
    expect(error.code).toBe('firewall.iptablesFailed');
    expect(error.message).toMatch(/^iptables -w 5 -N knock_filter failed: .*Permission denied/);
    expect(error.hint).toContain('CAP_NET_ADMIN');
  });

  it('a dry run prints each change as a command line and changes nothing', async () => {
    const fake = fakeIptables();
    const printed: string[] = [];
    const fw = createFirewall('iptables', {
      exec: fake.exec,
      now: () => NOW,
      dryRun: (text) => printed.push(text),
    });
    await fw.setup(SPEC);
    await fw.grant('192.0.2.1', [{ port: 22, protocol: 'tcp' }], 300);
    expect(fake.changes).toEqual([]);
    expect(printed).toContain('iptables -w 5 -N knock_policy\n');
    expect(printed).toContain(
      "iptables -w 5 -A knock_policy -m limit --limit 10/sec --limit-burst 20 -j LOG --log-prefix '[knock,drop] '\n",
    );
    expect(printed.at(-1)).toBe(
      'iptables -w 5 -I knock_filter -s 192.0.2.1 -p tcp -m tcp --dport 22 -m time --datestop 2026-12-02T10:04:59 -j ACCEPT\n',
    );
  });

  it("takes the seed's chain names with iptablesChainPrefix 'ssh'", async () => {
    const fake = fakeIptables();
    const fw = createFirewall('iptables', { exec: fake.exec, iptablesChainPrefix: 'ssh' });
    await fw.setup(SPEC);
    expect([...fake.tables.iptables!.keys()]).toContain('ssh_policy');
  });
});
