// A refresh of a grant (a repeated knock, a client keeping a session open) must never leave
// a moment where the address is not let in.
import { describe, expect, it } from 'vitest';
import { createFirewall } from '../../src/firewall/create.js';
import { chainsFor, grantRule } from '../../src/firewall/iptables-rules.js';
import { nftGrantText } from '../../src/firewall/nft-text.js';
import type { Exec, ExecResult } from '../../src/firewall/types.js';

const SSH = [{ port: 22, protocol: 'tcp' as const }];
const SPEC = { protectedPorts: SSH, trusted: [] };
const ok: ExecResult = { code: 0, stdout: '', stderr: '' };

describe('nftables refresh', () => {
  it('on a kernel that updates timeouts: one `add element`, never a delete', () => {
    const text = nftGrantText('192.0.2.1', SSH, 20, true);
    expect(text).toBe(
      'add element inet knock granted4 { 192.0.2.1 . tcp . 22 timeout 20s expires 20s }\n',
    );
    expect(nftGrantText('2001:db8::1', SSH, 20, true)).toMatch(/^add element inet knock granted6 /);
  });

  it('otherwise (or until flushed): delete and add in one transaction, committed at once', () => {
    for (const text of [
      nftGrantText('192.0.2.1', SSH, 20),
      nftGrantText('192.0.2.1', SSH, 0, true),
    ])
      expect(
        text
          .trim()
          .split('\n')
          .map((l) => l.split(' ')[0]),
      ).toEqual(['add', 'delete', 'add']);
  });

  function fakeNft(updates: boolean) {
    const runs: string[] = [];
    const exec: Exec = (_file, args, opts = {}) => {
      runs.push(opts.input ?? args.join(' '));
      if (args[0] === '-j' && args[1] === 'list' && args[4] === 'knock_probe')
        return Promise.resolve({
          ...ok,
          stdout: JSON.stringify({
            nftables: [
              {
                set: {
                  elem: [
                    { elem: { val: '192.0.2.1', timeout: 3600, expires: updates ? 3599 : 0 } },
                  ],
                },
              },
            ],
          }),
        });
      return Promise.resolve(ok);
    };
    return { exec, runs };
  }

  it('setup asks the kernel once, in a scratch table it removes, and grants follow the answer', async () => {
    for (const updates of [true, false]) {
      const { exec, runs } = fakeNft(updates);
      const fw = createFirewall('nftables', { exec });
      await fw.setup(SPEC);
      expect(runs.at(-1)).toBe('add table inet knock_probe\ndelete table inet knock_probe\n');
      await fw.setup(SPEC);
      expect(
        runs.filter((r) => r.includes('knock_probe s { 192.0.2.1 timeout 1h expires 1h }')),
      ).toHaveLength(1);
      await fw.grant('192.0.2.9', SSH, 20);
      expect(runs.at(-1)!.includes('delete element')).toBe(!updates);
    }
  });

  it('revoke with ports takes back only those ports', async () => {
    const listing = JSON.stringify({
      nftables: [
        {
          set: {
            name: 'granted4',
            table: 'knock',
            family: 'inet',
            elem: [
              { elem: { val: { concat: ['192.0.2.1', 'tcp', 22] }, timeout: 20, expires: 9 } },
              { elem: { val: { concat: ['192.0.2.1', 'tcp', 443] }, timeout: 20, expires: 9 } },
            ],
          },
        },
      ],
    });
    const runs: string[] = [];
    const exec: Exec = (_f, args, opts = {}) => {
      runs.push(opts.input ?? '');
      return Promise.resolve(args.includes('list') ? { ...ok, stdout: listing } : ok);
    };
    await createFirewall('nftables', { exec }).revoke('192.0.2.1', SSH);
    const change = runs.at(-1)!;
    expect(change).toContain('192.0.2.1 . tcp . 22');
    expect(change).not.toContain('443');
  });
});

describe('iptables refresh', () => {
  it('inserts the new rule before deleting the old one, so no SYN finds neither', async () => {
    const c = chainsFor();
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const old = grantRule(c, '192.0.2.1/32', SSH[0]!, now + 5_000).slice(2);
    const listing = [
      `-N ${c.filter}`,
      `-N ${c.trusted}`,
      `-N ${c.banned}`,
      `-N ${c.policy}`,
      `-A ${c.filter} ${old.join(' ')}`,
    ].join('\n');
    const calls: string[] = [];
    const exec: Exec = (file, args) => {
      if (args.includes('-S'))
        return Promise.resolve({ ...ok, stdout: file === 'iptables' ? listing : '' });
      calls.push(
        args
          .filter((a) => a !== '-w' && a !== '5')
          .slice(0, 2)
          .join(' '),
      );
      return Promise.resolve(ok);
    };
    const fw = createFirewall('iptables', { exec, now: () => now });
    await fw.grant('192.0.2.1', SSH, 20);
    expect(calls).toEqual([`-I ${c.filter}`, `-D ${c.filter}`]);
  });
});
