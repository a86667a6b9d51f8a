import { describe, expect, it } from 'vitest';
import { ExitCode } from '@knock/shared';
import { createFirewall } from '../../src/firewall/create.js';
import type { Exec, ExecResult } from '../../src/firewall/types.js';

const SPEC = { protectedPorts: [{ port: 22, protocol: 'tcp' as const }], trusted: [] };

/** Records every nft run; answers with `reply` (a function of the stdin text). */
function fakeNft(reply: (input: string, args: readonly string[]) => ExecResult) {
  const runs: { args: readonly string[]; input: string }[] = [];
  const exec: Exec = async (file, args, opts = {}) => {
    expect(file).toBe('nft');
    runs.push({ args, input: opts.input ?? '' });
    await new Promise((r) => setTimeout(r, 5));
    return reply(opts.input ?? '', args);
  };
  return { exec, runs };
}
const ok = { code: 0, stdout: '', stderr: '' };

describe('NftablesFirewall', () => {
  it('sends changes as `nft -f -` with the transaction on stdin, never a shell string', async () => {
    const { exec, runs } = fakeNft(() => ok);
    const fw = createFirewall('nftables', { exec });
    await fw.grant('192.0.2.1', SPEC.protectedPorts, 300);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.args).toEqual(['-f', '-']);
    expect(runs[0]!.input).toContain('{ 192.0.2.1 . tcp . 22 timeout 300s }');
  });

  it('sends a burst of grants in a few transactions, every one applied', async () => {
    const { exec, runs } = fakeNft(() => ok);
    const fw = createFirewall('nftables', { exec });
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        fw.grant(`198.51.100.${(i % 250) + 1}`, SPEC.protectedPorts, 60 + i),
      ),
    );
    expect(runs.length).toBeLessThanOrEqual(4);
    const all = runs.map((r) => r.input).join('');
    expect(all.match(/timeout \d+s/g)).toHaveLength(1000);
  });

  it('retries a failed combined transaction one by one, so one bad change sinks only itself', async () => {
    const { exec } = fakeNft((input) =>
      input.includes('192.0.2.66') ? { code: 1, stdout: '', stderr: 'Error: boom' } : ok,
    );
    const fw = createFirewall('nftables', { exec });
    const results = await Promise.allSettled([
      fw.grant('192.0.2.1', SPEC.protectedPorts, 5),
      fw.grant('192.0.2.2', SPEC.protectedPorts, 5),
      fw.grant('192.0.2.66', SPEC.protectedPorts, 5),
      fw.grant('192.0.2.3', SPEC.protectedPorts, 5),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({
      code: 'firewall.nftFailed',
      exitCode: ExitCode.firewall,
      message: 'nft failed (grant 192.0.2.66): Error: boom',
    });
  });

  it('says nft is missing, with what to do', async () => {
    const { exec } = fakeNft(() => ({ code: 127, stdout: '', stderr: 'nft: command not found' }));
    await expect(createFirewall('nftables', { exec }).setup(SPEC)).rejects.toMatchObject({
      code: 'firewall.nftMissing',
      exitCode: ExitCode.firewall,
      hint: expect.stringContaining('apt-get install nftables'),
    });
  });

  it("passes nft's stderr through when it refuses the change", async () => {
    const stderr = 'netlink: Error: Could not process rule: Operation not permitted';
    const { exec } = fakeNft(() => ({ code: 1, stdout: '', stderr }));
    const error = await createFirewall('nftables', { exec })
      .setup(SPEC)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'firewall.permission', exitCode: ExitCode.firewall });
    expect((error as Error).message).toContain(stderr);
  });

  it('rejects bad addresses, ports and durations before running anything', async () => {
    const { exec, runs } = fakeNft(() => ok);
    const fw = createFirewall('nftables', { exec });
    await expect(fw.grant('192.0.2.300', SPEC.protectedPorts, 5)).rejects.toMatchObject({
      code: 'firewall.badAddress',
      exitCode: ExitCode.usage,
      message: "invalid address '192.0.2.300'",
    });
    await expect(fw.trust('2001:db8::/999')).rejects.toMatchObject({ code: 'firewall.badAddress' });
    await expect(fw.ban('192.0.2.1', -1)).rejects.toMatchObject({ code: 'firewall.badSeconds' });
    await expect(fw.grant('192.0.2.1', [{ port: 0, protocol: 'tcp' }], 5)).rejects.toMatchObject({
      code: 'firewall.badPort',
    });
    await expect(fw.setup({ protectedPorts: [], trusted: ['nonsense'] })).rejects.toMatchObject({
      code: 'firewall.badAddress',
      message: "invalid trusted address or CIDR 'nonsense'",
    });
    expect(runs).toEqual([]);
  });

  it('normalises IPv4-mapped IPv6 sources to IPv4 (a dual-stack capture reports them)', async () => {
    const printed: string[] = [];
    const fw = createFirewall('nftables', {
      exec: fakeNft(() => ok).exec,
      dryRun: (t) => printed.push(t),
    });
    await fw.ban('::ffff:192.0.2.9', 0);
    expect(printed.join('')).toContain('banned4 { 192.0.2.9 }');
  });
});

describe('none backend', () => {
  it('refuses grants with a firewall error and reports itself inactive', async () => {
    const fw = createFirewall('none');
    await fw.setup(SPEC);
    await expect(fw.grant('192.0.2.1', SPEC.protectedPorts, 5)).rejects.toMatchObject({
      code: 'firewall.none',
      exitCode: ExitCode.firewall,
    });
    expect(await fw.status()).toMatchObject({ kind: 'none', active: false });
  });
});
