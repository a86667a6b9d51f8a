// The nftables backend against the real kernel, in a fresh network namespace.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNetns } from '../helpers/describe.js';
import { createFirewall, nftSetupText, type Firewall, type FirewallSpec } from '@knock/server';
import {
  createFwLab,
  EXTRA6,
  OPEN_PORT,
  PORT,
  sleep,
  withoutExpiry,
  type FwLab,
} from '../helpers/fw-lab.js';

const SPEC: FirewallSpec = {
  protectedPorts: [{ port: PORT, protocol: 'tcp' }],
  // 192.0.2.10 and .11 (client extras) are inside 192.0.2.8/30; .12 and .13 are not.
  trusted: ['192.0.2.8/30', '2001:db8::a0/124'],
};

describeNetns(`nftables backend in a namespace`, () => {
  let fw: FwLab;
  let nft: Firewall;
  let rulesetBefore = '';
  const table = async () => (await fw.exec('nft', ['list', 'table', 'inet', 'knock'])).stdout;

  beforeAll(async () => {
    fw = await createFwLab();
    nft = createFirewall('nftables', { exec: fw.exec });
    rulesetBefore = (await fw.exec('nft', ['list', 'ruleset'])).stdout;
    await nft.setup(SPEC);
  });
  afterAll(async () => fw?.destroy());

  it('refuses the protected port to everyone not trusted, and leaves other ports alone', async () => {
    const [c4, c6, other, open] = await Promise.all([
      fw.connects('192.0.2.1'),
      fw.connects('2001:db8::1'),
      fw.connects('192.0.2.12'),
      fw.connects('192.0.2.1', OPEN_PORT),
    ]);
    expect({ c4, c6, other, open }).toEqual({ c4: false, c6: false, other: false, open: true });
  });

  it('lets trusted networks in without a grant (IPv4 and IPv6)', async () => {
    const [t4a, t4b, t6] = await Promise.all([
      fw.connects('192.0.2.10'),
      fw.connects('192.0.2.11'),
      fw.connects('2001:db8::a1'),
    ]);
    expect({ t4a, t4b, t6 }).toEqual({ t4a: true, t4b: true, t6: true });
  });

  it('opens the port for the granted address only, IPv4 and IPv6', async () => {
    await nft.grant('192.0.2.1', SPEC.protectedPorts, 300);
    await nft.grant('2001:db8::1', SPEC.protectedPorts, 300);
    const [c4, c6, other4, other6] = await Promise.all([
      fw.connects('192.0.2.1'),
      fw.connects('2001:db8::1'),
      fw.connects('192.0.2.12'),
      fw.connects(EXTRA6[0]!),
    ]);
    expect({ c4, c6, other4, other6 }).toEqual({
      c4: true,
      c6: true,
      other4: false,
      other6: false,
    });
  });

  it('lists every grant with its remaining time, and a repeated grant refreshes, never duplicates', async () => {
    await nft.grant('192.0.2.1', SPEC.protectedPorts, 100);
    await nft.grant('192.0.2.1', SPEC.protectedPorts, 200);
    const grants = (await nft.list()).filter((e) => e.kind === 'grant');
    const mine = grants.filter((e) => e.address === '192.0.2.1');
    expect(mine).toHaveLength(1);
    expect(mine[0]!.port).toEqual({ port: PORT, protocol: 'tcp' });
    expect(mine[0]!.remaining).toBeGreaterThan(190);
    expect(mine[0]!.remaining).toBeLessThanOrEqual(200);
    const v6 = grants.find((e) => e.address === '2001:db8::1');
    expect(v6?.remaining).toBeGreaterThan(280);
  });

  it('expires a grant in the kernel, with no process of ours left to remove it', async () => {
    await nft.grant('192.0.2.13', SPEC.protectedPorts, 2);
    expect(await fw.connects('192.0.2.13')).toBe(true);
    // Nothing of ours runs in the server namespace now but the test listener: no sleep, no daemon.
    expect(await fw.serverProcesses()).toEqual(['node']);
    await sleep(3000);
    expect(await fw.connects('192.0.2.13')).toBe(false);
    expect((await nft.list()).some((e) => e.address === '192.0.2.13')).toBe(false);
  });

  it('keeps a banned address out even when granted or trusted, until the ban is lifted', async () => {
    await nft.grant('192.0.2.1', SPEC.protectedPorts, 300);
    await nft.ban('192.0.2.1', 0);
    await nft.ban('192.0.2.11', 300);
    await nft.ban('2001:db8::1', 60);
    const [c4, t4, c6] = await Promise.all([
      fw.connects('192.0.2.1'),
      fw.connects('192.0.2.11'),
      fw.connects('2001:db8::1'),
    ]);
    expect({ c4, t4, c6 }).toEqual({ c4: false, t4: false, c6: false });
    const bans = (await nft.list()).filter((e) => e.kind === 'ban');
    expect(bans).toEqual(
      expect.arrayContaining([
        { kind: 'ban', address: '192.0.2.1' },
        expect.objectContaining({ kind: 'ban', address: '192.0.2.11' }),
      ]),
    );
    expect(bans.find((b) => b.address === '2001:db8::1')?.remaining).toBeLessThanOrEqual(60);

    await nft.unban('192.0.2.11');
    expect(await fw.connects('192.0.2.11')).toBe(true);
    await nft.unban('192.0.2.11'); // idempotent
    await nft.flushBans();
    const [a, b] = await Promise.all([fw.connects('192.0.2.1'), fw.connects('2001:db8::1')]);
    expect({ a, b }).toEqual({ a: true, b: true });
  });

  it('revokes one address, then flushes all grants', async () => {
    await nft.grant('192.0.2.12', SPEC.protectedPorts, 300);
    await nft.revoke('192.0.2.1');
    await nft.revoke('192.0.2.1'); // idempotent
    const [gone, kept] = await Promise.all([fw.connects('192.0.2.1'), fw.connects('192.0.2.12')]);
    expect({ gone, kept }).toEqual({ gone: false, kept: true });
    await nft.flushGrants();
    const [a, b] = await Promise.all([fw.connects('192.0.2.12'), fw.connects('2001:db8::1')]);
    expect({ a, b }).toEqual({ a: false, b: false });
    expect((await nft.list()).filter((e) => e.kind === 'grant')).toEqual([]);
  });

  it('trusts an address at run time, idempotently', async () => {
    await nft.trust('192.0.2.12');
    await nft.trust('192.0.2.12');
    expect(await fw.connects('192.0.2.12')).toBe(true);
    await nft.setup(SPEC); // setup rewrites the trusted list from the config
    expect(await fw.connects('192.0.2.12')).toBe(false);
  });

  it('applies 1,000 grants sent in one burst, and expires them all', async () => {
    const addresses = Array.from({ length: 1000 }, (_, i) =>
      i < 250 ? `198.51.100.${i + 1}` : `2001:db8:f::${(i + 1).toString(16)}`,
    );
    await Promise.all(addresses.map((a) => nft.grant(a, SPEC.protectedPorts, 3)));
    const listed = new Set(
      (await nft.list()).filter((e) => e.kind === 'grant').map((e) => e.address),
    );
    expect(addresses.filter((a) => listed.has(a))).toHaveLength(1000);
    await sleep(4000);
    expect((await nft.list()).filter((e) => e.kind === 'grant')).toEqual([]);
  });

  it('setup twice changes nothing and keeps live grants and bans', async () => {
    await nft.grant('192.0.2.1', SPEC.protectedPorts, 300);
    await nft.ban('192.0.2.13', 0);
    const before = await table();
    await nft.setup(SPEC);
    await nft.setup(SPEC);
    expect(withoutExpiry(await table())).toBe(withoutExpiry(before));
    expect(await fw.connects('192.0.2.1')).toBe(true);
  });

  it('a dry run prints the exact transaction and changes nothing', async () => {
    const printed: string[] = [];
    const dry = createFirewall('nftables', { exec: fw.exec, dryRun: (t) => printed.push(t) });
    const before = withoutExpiry(await table());
    await dry.setup({ protectedPorts: [{ port: 80, protocol: 'tcp' }], trusted: [] });
    await dry.grant('192.0.2.12', SPEC.protectedPorts, 60);
    await dry.ban('192.0.2.1', 0);
    await dry.flushGrants();
    await dry.teardown();
    expect(withoutExpiry(await table())).toBe(before);
    expect(printed[0]).toBe(
      nftSetupText({ protectedPorts: [{ port: 80, protocol: 'tcp' }], trusted: [] }),
    );
    expect(printed[1]).toContain(
      'add element inet knock granted4 { 192.0.2.12 . tcp . 22 timeout 60s }',
    );
    expect(printed).toHaveLength(5);
  });

  it('reports status', async () => {
    const status = await nft.status();
    expect(status).toMatchObject({
      kind: 'nftables',
      active: true,
      protectedPorts: [{ port: PORT, protocol: 'tcp' }],
    });
    expect(status.detail).toMatch(/^nftables v\d/);
  });

  it('teardown removes the table: the host is as before and the port is open again', async () => {
    await nft.teardown();
    await nft.teardown(); // idempotent
    expect((await fw.exec('nft', ['list', 'ruleset'])).stdout).toBe(rulesetBefore);
    expect(await fw.connects('192.0.2.12')).toBe(true);
    expect((await nft.status()).active).toBe(false);
    await expect(nft.grant('192.0.2.1', SPEC.protectedPorts, 5)).rejects.toMatchObject({
      code: 'firewall.notSetUp',
    });
  });
});
