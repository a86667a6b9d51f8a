import { describe, expect, it } from 'vitest';
import {
  nftBanText,
  nftFlushBansText,
  nftGrantText,
  nftRevokeText,
  nftSetupText,
  nftTeardownText,
  nftTrustText,
  nftUnbanText,
  parseNftTable,
} from '../../src/firewall/nft-text.js';

describe('nftSetupText', () => {
  const text = nftSetupText({
    protectedPorts: [
      { port: 22, protocol: 'tcp' },
      { port: 22, protocol: 'tcp' },
      { port: 53, protocol: 'udp' },
    ],
    trusted: ['198.51.100.0/24', '2001:db8:5::/48', '192.0.2.9'],
  });
  const lines = text.trim().split('\n');

  it('creates (never deletes) the table and the grant and ban sets, so grants survive a restart', () => {
    expect(lines).toContain('add table inet knock');
    expect(lines).toContain(
      'add set inet knock granted4 { type ipv4_addr . inet_proto . inet_service; flags timeout; }',
    );
    expect(lines).toContain('add set inet knock banned6 { type ipv6_addr; flags timeout; }');
    expect(text).not.toMatch(/delete|flush set inet knock (granted|banned)/);
  });

  it('rewrites the protected ports (deduplicated) and the trusted sets by family', () => {
    expect(lines).toContain('add element inet knock protected { tcp . 22, udp . 53 }');
    expect(lines).toContain('add element inet knock trusted4 { 198.51.100.0/24, 192.0.2.9 }');
    expect(lines).toContain('add element inet knock trusted6 { 2001:db8:5::/48 }');
    expect(lines.indexOf('flush set inet knock trusted4')).toBeLessThan(
      lines.indexOf('add element inet knock trusted4 { 198.51.100.0/24, 192.0.2.9 }'),
    );
  });

  it("filters NEW connections to protected ports in the seed's order", () => {
    const rules = lines.filter((l) => l.startsWith('add rule'));
    expect(rules).toEqual([
      'add rule inet knock input ct state new meta l4proto . th dport @protected jump gate',
      'add rule inet knock gate ip saddr @banned4 drop',
      'add rule inet knock gate ip6 saddr @banned6 drop',
      'add rule inet knock gate ip saddr @trusted4 accept',
      'add rule inet knock gate ip6 saddr @trusted6 accept',
      'add rule inet knock gate ip saddr . meta l4proto . th dport @granted4 accept',
      'add rule inet knock gate ip6 saddr . meta l4proto . th dport @granted6 accept',
      'add rule inet knock gate limit rate 10/second burst 20 packets log prefix "[knock,drop] "',
      'add rule inet knock gate drop',
    ]);
    expect(lines).toContain(
      'add chain inet knock input { type filter hook input priority -10; policy accept; }',
    );
  });

  it('writes no element line when there is nothing to add', () => {
    expect(nftSetupText({ protectedPorts: [], trusted: [] })).not.toContain('add element');
  });
});

describe('change texts', () => {
  it('grant refreshes each port: ensure, delete, add with the timeout', () => {
    expect(nftGrantText('192.0.2.1', [{ port: 22, protocol: 'tcp' }], 300)).toBe(
      'add element inet knock granted4 { 192.0.2.1 . tcp . 22 }\n' +
        'delete element inet knock granted4 { 192.0.2.1 . tcp . 22 }\n' +
        'add element inet knock granted4 { 192.0.2.1 . tcp . 22 timeout 300s }\n',
    );
    expect(nftGrantText('2001:db8::1', [{ port: 53, protocol: 'udp' }], 0)).toContain(
      'add element inet knock granted6 { 2001:db8::1 . udp . 53 }\n',
    );
  });

  it('ban, unban, trust, revoke, flush, teardown', () => {
    expect(nftBanText('2001:db8::7', 60)).toMatch(
      /add element inet knock banned6 \{ 2001:db8::7 timeout 60s \}\n$/,
    );
    expect(nftBanText('192.0.2.7', 0)).toMatch(/add element inet knock banned4 \{ 192.0.2.7 \}\n$/);
    expect(nftUnbanText('192.0.2.7')).toBe(
      'add element inet knock banned4 { 192.0.2.7 }\ndelete element inet knock banned4 { 192.0.2.7 }\n',
    );
    expect(nftTrustText('2001:db8::/32')).toBe(
      'add element inet knock trusted6 { 2001:db8::/32 }\n',
    );
    expect(
      nftRevokeText([
        { kind: 'grant', address: '192.0.2.1', port: { port: 22, protocol: 'tcp' }, remaining: 5 },
      ]),
    ).toBe(
      'add element inet knock granted4 { 192.0.2.1 . tcp . 22 }\ndelete element inet knock granted4 { 192.0.2.1 . tcp . 22 }\n',
    );
    expect(nftFlushBansText()).toBe('flush set inet knock banned4\nflush set inet knock banned6\n');
    expect(nftTeardownText()).toBe('add table inet knock\ndelete table inet knock\n');
  });
});

describe('parseNftTable', () => {
  // Shapes as printed by `nft -j list table inet knock` (nftables 1.0.6).
  const json = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6', json_schema_version: 1 } },
      { table: { family: 'inet', name: 'knock', handle: 1 } },
      {
        set: {
          family: 'inet',
          name: 'protected',
          table: 'knock',
          type: ['inet_proto', 'inet_service'],
          elem: [{ concat: ['tcp', 22] }],
        },
      },
      {
        set: {
          family: 'inet',
          name: 'trusted4',
          table: 'knock',
          type: 'ipv4_addr',
          flags: ['interval'],
          elem: [
            { prefix: { addr: '198.51.100.0', len: 24 } },
            '192.0.2.9',
            { range: ['192.0.2.20', '192.0.2.30'] },
          ],
        },
      },
      {
        set: {
          family: 'inet',
          name: 'granted4',
          table: 'knock',
          type: ['ipv4_addr', 'inet_proto', 'inet_service'],
          flags: ['timeout'],
          elem: [
            { elem: { val: { concat: ['192.0.2.1', 'tcp', 22] }, timeout: 300, expires: 297 } },
            { concat: ['192.0.2.2', 'udp', 53] },
          ],
        },
      },
      {
        set: {
          family: 'inet',
          name: 'banned6',
          table: 'knock',
          type: 'ipv6_addr',
          flags: ['timeout'],
          elem: ['2001:db8::66', { elem: { val: '2001:db8::67', timeout: 60, expires: 12 } }],
        },
      },
      { chain: { family: 'inet', table: 'knock', name: 'input' } },
    ],
  });

  it('lists grants with port and remaining time, bans, trusted networks, protected ports', () => {
    expect(parseNftTable(json)).toEqual({
      protectedPorts: [{ protocol: 'tcp', port: 22 }],
      entries: [
        { kind: 'trusted', address: '198.51.100.0/24' },
        { kind: 'trusted', address: '192.0.2.9' },
        { kind: 'trusted', address: '192.0.2.20-192.0.2.30' },
        {
          kind: 'grant',
          address: '192.0.2.1',
          port: { protocol: 'tcp', port: 22 },
          remaining: 297,
        },
        { kind: 'grant', address: '192.0.2.2', port: { protocol: 'udp', port: 53 } },
        { kind: 'ban', address: '2001:db8::66' },
        { kind: 'ban', address: '2001:db8::67', remaining: 12 },
      ],
    });
  });
});
