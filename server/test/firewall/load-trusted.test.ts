import { describe, expect, it } from 'vitest';
import { ExitCode } from '@knock/shared';
import { loadTrusted } from '../../src/firewall/load-trusted.js';

const file = (text: string) => ({ readFile: async () => text });

describe('loadTrusted', () => {
  it('resolves names to all their addresses and keeps addresses and CIDRs', async () => {
    const loaded = await loadTrusted('/etc/knockd/knockd.trusted', {
      ...file('ssh.example.org # ssh\n198.51.100.0/24\n2001:db8::9\n'),
      lookup: async (name) => (name === 'ssh.example.org' ? ['192.0.2.80', '2001:db8::80'] : []),
    });
    expect(loaded.issues).toEqual([]);
    expect(loaded.addresses).toEqual([
      '192.0.2.80',
      '2001:db8::80',
      '198.51.100.0/24',
      '2001:db8::9',
    ]);
  });

  it('reports a name that does not resolve and still loads the rest', async () => {
    const loaded = await loadTrusted('trusted', {
      ...file('gone.example.invalid\n192.0.2.3\n'),
      lookup: async () => {
        throw new Error('getaddrinfo ENOTFOUND gone.example.invalid');
      },
    });
    expect(loaded.addresses).toEqual(['192.0.2.3']);
    expect(loaded.issues).toHaveLength(1);
    expect(loaded.issues[0]).toMatchObject({
      severity: 'warning',
      code: 'trusted.unresolved',
      file: 'trusted',
      line: 1,
    });
    expect(loaded.issues[0]!.message).toContain("'gone.example.invalid' does not resolve");
  });

  it('gives up on a name after the timeout instead of hanging', async () => {
    const started = Date.now();
    const loaded = await loadTrusted('trusted', {
      ...file('slow.example\n192.0.2.4\n'),
      lookup: () => new Promise(() => undefined),
      timeoutMs: 100,
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(loaded.addresses).toEqual(['192.0.2.4']);
    expect(loaded.issues[0]!.message).toContain('timed out');
  });

  it('deduplicates and keeps parse errors alongside', async () => {
    const loaded = await loadTrusted('t', {
      ...file('192.0.2.1\n192.0.2.1/32\nbad/99\n'),
      lookup: async () => [],
    });
    expect(loaded.addresses).toEqual(['192.0.2.1']);
    expect(loaded.issues.map((i) => i.code)).toEqual(['trusted.badAddress']);
  });

  it('resolves localhost for real', async () => {
    const loaded = await loadTrusted('t', file('localhost\n'));
    expect(loaded.addresses).toContain('127.0.0.1');
  });

  it('throws a config error naming the file when it cannot be read', async () => {
    await expect(loadTrusted('/nonexistent/knockd.trusted')).rejects.toMatchObject({
      code: 'firewall.trustedUnreadable',
      exitCode: ExitCode.config,
      message: 'cannot read trusted file /nonexistent/knockd.trusted (ENOENT)',
    });
  });
});
