import { describe, expect, it } from 'vitest';
import {
  describeSetup,
  formatEntries,
  formatStatus,
  showPort,
  showRemaining,
} from '../../src/firewall/format.js';

describe('list formatting', () => {
  it('shows remaining times as people read them', () => {
    expect([0, 59, 61, 3600 + 5, undefined].map(showRemaining)).toEqual([
      '0s',
      '59s',
      '1m1s',
      '1h0m5s',
      'forever',
    ]);
    expect(
      formatEntries([
        {
          kind: 'grant',
          address: '192.0.2.1',
          port: { port: 22, protocol: 'tcp' },
          remaining: 297,
        },
        { kind: 'ban', address: '2001:db8::66' },
      ]),
    ).toBe('grant  192.0.2.1     22/tcp  4m57s left\nban    2001:db8::66  -       forever\n');
    expect(formatEntries([])).toBe('no grants or bans\n');
  });
});

describe('status and setup reports', () => {
  it('status: one aligned line per fact, and what to do when the rules are not there', () => {
    const status = {
      kind: 'nftables' as const,
      active: true,
      protectedPorts: [
        { port: 22, protocol: 'tcp' as const },
        { port: 53, protocol: 'udp' as const },
      ],
      grants: 2,
      bans: 1,
      trusted: 3,
      detail: 'nftables v1.0.6',
    };
    expect(formatStatus(status)).toBe(
      'backend:   nftables (nftables v1.0.6)\n' +
        'active:    yes\n' +
        'protected: 22/tcp, 53/udp\n' +
        'grants:    2\n' +
        'bans:      1\n' +
        'trusted:   3\n',
    );
    expect(
      formatStatus({ ...status, active: false, protectedPorts: [], detail: 'no table' }),
    ).toContain('active:    no: run `knock-server fw setup`\nprotected: -\n');
  });

  it('setup: the ports protected and the trusted count, singular and plural', () => {
    const ports = [
      { port: 22, protocol: 'tcp' as const },
      { port: 2222, protocol: 'tcp' as const },
    ];
    expect(describeSetup('nftables', { protectedPorts: ports, trusted: [] })).toBe(
      'nftables: protecting 22/tcp, 2222/tcp (NEW connections); 0 trusted addresses or networks',
    );
    expect(
      describeSetup('iptables', { protectedPorts: ports.slice(0, 1), trusted: ['192.0.2.0/24'] }),
    ).toBe('iptables: protecting 22/tcp (NEW connections); 1 trusted address or network');
    expect(showPort({ port: 53, protocol: 'udp' })).toBe('53/udp');
  });
});
