// The iptables backend (iptables + ip6tables) against the real kernel, in a fresh namespace.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNetns } from '../helpers/describe.js';
import { createFirewall, type Firewall, type FirewallSpec } from '@knock/server';
import { createFwLab, EXTRA6, PORT, sleep, type FwLab } from '../helpers/fw-lab.js';

const SPEC: FirewallSpec = {
  protectedPorts: [{ port: PORT, protocol: 'tcp' }],
  trusted: ['192.0.2.8/30', '2001:db8::a0/124'],
};

describeNetns(`iptables backend in a namespace`, () => {
  let fw: FwLab;
  let ipt: Firewall;
  let before = '';
  const rules = async () =>
    (await fw.exec('iptables', ['-S'])).stdout + (await fw.exec('ip6tables', ['-S'])).stdout;

  beforeAll(async () => {
    fw = await createFwLab();
    ipt = createFirewall('iptables', { exec: fw.exec, iptablesChainPrefix: 'ssh' });
    before = await rules();
    await ipt.setup(SPEC);
  });
  afterAll(async () => fw?.destroy());

  it("builds the seed's chains, in the seed's order", async () => {
    const text = await rules();
    for (const chain of ['ssh_filter', 'ssh_trusted', 'ssh_banned', 'ssh_policy'])
      expect(text).toContain(`-N ${chain}`);
    const policy = text.split('\n').filter((l) => l.startsWith('-A ssh_policy'));
    expect(policy.map((l) => l.replace(/.* -j (\S+).*/, '$1')).slice(0, 10)).toEqual([
      'ssh_banned',
      'ssh_trusted',
      'ssh_filter',
      'LOG',
      'DROP',
      'ssh_banned',
      'ssh_trusted',
      'ssh_filter',
      'LOG',
      'DROP',
    ]);
  });

  it('refuses strangers, lets trusted networks in, opens for the granted address only', async () => {
    const closed = await Promise.all([fw.connects('192.0.2.1'), fw.connects('2001:db8::1')]);
    expect(closed).toEqual([false, false]);
    await ipt.grant('192.0.2.1', SPEC.protectedPorts, 300);
    await ipt.grant('2001:db8::1', SPEC.protectedPorts, 300);
    const [c4, c6, other4, other6, t4, t6] = await Promise.all([
      fw.connects('192.0.2.1'),
      fw.connects('2001:db8::1'),
      fw.connects('192.0.2.12'),
      fw.connects(EXTRA6[0]!),
      fw.connects('192.0.2.10'),
      fw.connects('2001:db8::a1'),
    ]);
    expect({ c4, c6, other4, other6, t4, t6 }).toEqual({
      c4: true,
      c6: true,
      other4: false,
      other6: false,
      t4: true,
      t6: true,
    });
  });

  it('refreshes a repeated grant instead of duplicating it, and lists remaining times', async () => {
    await ipt.grant('192.0.2.1', SPEC.protectedPorts, 100);
    await ipt.grant('192.0.2.1', SPEC.protectedPorts, 200);
    const mine = (await ipt.list()).filter((e) => e.kind === 'grant' && e.address === '192.0.2.1');
    expect(mine).toHaveLength(1);
    expect(mine[0]!.remaining).toBeGreaterThan(190);
    expect(mine[0]!.remaining).toBeLessThanOrEqual(200);
  });

  it('expires a grant on time with no process of ours alive (kernel time match)', async () => {
    await ipt.grant('192.0.2.13', SPEC.protectedPorts, 2);
    expect(await fw.connects('192.0.2.13')).toBe(true);
    expect(await fw.serverProcesses()).toEqual(['node']);
    await sleep(3000);
    expect(await fw.connects('192.0.2.13')).toBe(false);
    expect((await ipt.list()).some((e) => e.address === '192.0.2.13')).toBe(false);
    expect(await rules()).not.toContain('192.0.2.13'); // tidied up by list()
  });

  it('keeps banned addresses out even when granted or trusted; flushes bans and grants', async () => {
    await ipt.ban('192.0.2.1', 0);
    await ipt.ban('192.0.2.11', 300);
    await ipt.ban('2001:db8::1', 0);
    const banned = await Promise.all([
      fw.connects('192.0.2.1'),
      fw.connects('192.0.2.11'),
      fw.connects('2001:db8::1'),
    ]);
    expect(banned).toEqual([false, false, false]);
    expect((await ipt.list()).filter((e) => e.kind === 'ban')).toHaveLength(3);
    await ipt.flushBans();
    expect(await Promise.all([fw.connects('192.0.2.1'), fw.connects('2001:db8::1')])).toEqual([
      true,
      true,
    ]);
    await ipt.revoke('192.0.2.1');
    expect(await fw.connects('192.0.2.1')).toBe(false);
    expect(await fw.connects('2001:db8::1')).toBe(true);
    await ipt.flushGrants();
    expect(await fw.connects('2001:db8::1')).toBe(false);
  });

  it('setup twice changes nothing', async () => {
    await ipt.grant('192.0.2.1', SPEC.protectedPorts, 300);
    await ipt.trust('192.0.2.12');
    await ipt.setup(SPEC);
    const once = await rules();
    await ipt.setup(SPEC);
    expect(await rules()).toBe(once);
    expect(once).not.toContain('192.0.2.12/32 -j ACCEPT'); // setup reloads the trusted list
    expect(await fw.connects('192.0.2.1')).toBe(true);
  });

  it('a dry run prints argv and changes nothing', async () => {
    const printed: string[] = [];
    const dry = createFirewall('iptables', {
      exec: fw.exec,
      iptablesChainPrefix: 'ssh',
      dryRun: (t) => printed.push(t),
    });
    const was = await rules();
    await dry.grant('192.0.2.12', SPEC.protectedPorts, 60);
    await dry.teardown();
    expect(await rules()).toBe(was);
    expect(printed[0]).toMatch(
      /^iptables -w 5 -I ssh_filter -s 192\.0\.2\.12 -p tcp -m tcp --dport 22 -m time --datestop \S+ -j ACCEPT\n$/,
    );
    expect(printed.join('')).toContain('iptables -w 5 -X ssh_policy');
  });

  it('teardown restores the host as it was', async () => {
    await ipt.teardown();
    await ipt.teardown();
    expect(await rules()).toBe(before);
    expect(await fw.connects('192.0.2.12')).toBe(true);
    await expect(ipt.grant('192.0.2.1', SPEC.protectedPorts, 5)).rejects.toMatchObject({
      code: 'firewall.notSetUp',
    });
  });
});
