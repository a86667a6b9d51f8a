import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '@knock/shared';
import { createFirewall, detectFirewall, onPath } from '../../src/firewall/create.js';

describe('createFirewall', () => {
  it('builds the backend asked for', () => {
    expect(createFirewall('nftables').kind).toBe('nftables');
    expect(createFirewall('iptables').kind).toBe('iptables');
    expect(createFirewall('none').kind).toBe('none');
  });

  it('Firewall = none: setup, flushes and list do nothing; grants, bans and trusts are refused with what to set', async () => {
    const fw = createFirewall('none');
    await fw.setup({ protectedPorts: [{ port: 22, protocol: 'tcp' }], trusted: [] });
    await fw.flushGrants();
    await fw.flushBans();
    await fw.teardown();
    expect(await fw.list()).toEqual([]);
    expect(await fw.status()).toEqual({
      kind: 'none',
      active: false,
      protectedPorts: [],
      grants: 0,
      bans: 0,
      trusted: 0,
      detail: 'no built-in firewall (Firewall = none)',
    });
    await expect(fw.grant('192.0.2.1', [{ port: 22, protocol: 'tcp' }], 60)).rejects.toMatchObject({
      code: 'firewall.none',
      message: 'no firewall backend (Firewall = none): cannot grant 192.0.2.1',
      exitCode: ExitCode.firewall,
      hint: 'set Firewall = nftables or iptables in [options], or use --backend',
    });
    await expect(fw.ban('2001:db8::1', 0)).rejects.toMatchObject({
      message: 'no firewall backend (Firewall = none): cannot ban 2001:db8::1',
    });
    await expect(fw.trust('192.0.2.0/24')).rejects.toMatchObject({
      message: 'no firewall backend (Firewall = none): cannot trust 192.0.2.0/24',
    });
    await expect(fw.unban('192.0.2.1')).rejects.toMatchObject({ code: 'firewall.none' });
    await expect(fw.revoke('192.0.2.1')).rejects.toMatchObject({ code: 'firewall.none' });
    // A bad address is a usage error first, as with the real backends.
    await expect(fw.grant('nope', [], 60)).rejects.toMatchObject({ code: 'firewall.badAddress' });
  });
});

describe('detectFirewall', () => {
  const having =
    (...programs: string[]) =>
    async (p: string) =>
      programs.includes(p);

  it('prefers nftables, then iptables (both families), else none', async () => {
    expect(await detectFirewall({ has: having('nft', 'iptables', 'ip6tables') })).toBe('nftables');
    expect(await detectFirewall({ has: having('iptables', 'ip6tables') })).toBe('iptables');
    expect(await detectFirewall({ has: having('iptables') })).toBe('none');
    expect(await detectFirewall({ has: having() })).toBe('none');
  });
});

describe('onPath', () => {
  const dir = mkdtempSync(join(tmpdir(), 'knock-onpath-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds an executable on PATH, not a plain file, and looks in the system directories too', async () => {
    writeFileSync(join(dir, 'knock-test-tool'), '#!/bin/sh\n');
    expect(await onPath('knock-test-tool', dir)).toBe(false);
    chmodSync(join(dir, 'knock-test-tool'), 0o755);
    expect(await onPath('knock-test-tool', `/nonexistent:${dir}`)).toBe(true);
    expect(await onPath('knock-test-tool', '')).toBe(false);
    // sh is in /usr/bin or /bin, which are searched even with an empty PATH.
    expect(await onPath('sh', '')).toBe(true);
  });
});
