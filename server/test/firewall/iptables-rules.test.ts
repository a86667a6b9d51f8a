import { describe, expect, it } from 'vitest';
import {
  banRule,
  chainsFor,
  datestop,
  entriesOf,
  grantRule,
  inputJumps,
  parseIptablesS,
  policyRules,
  splitRule,
} from '../../src/firewall/iptables-rules.js';

const c = chainsFor();

describe('argv builders', () => {
  it("use the seed's chain names with the 'ssh' prefix", () => {
    expect(chainsFor('ssh')).toEqual({
      filter: 'ssh_filter',
      trusted: 'ssh_trusted',
      banned: 'ssh_banned',
      policy: 'ssh_policy',
    });
  });

  it("build the policy chain in the seed's order: banned, trusted, filter, LOG, DROP", () => {
    expect(policyRules(c).map((r) => r.slice(2).join(' '))).toEqual([
      '-j knock_banned',
      '-j knock_trusted',
      '-j knock_filter',
      '-m limit --limit 10/sec --limit-burst 20 -j LOG --log-prefix [knock,drop] ',
      '-j DROP',
    ]);
  });

  it('jump from the top of INPUT for NEW connections to each protected port', () => {
    expect(
      inputJumps(c, [
        { port: 22, protocol: 'tcp' },
        { port: 53, protocol: 'udp' },
      ]),
    ).toEqual([
      [
        '-I',
        'INPUT',
        '1',
        '-p',
        'tcp',
        '-m',
        'tcp',
        '--dport',
        '22',
        '-m',
        'conntrack',
        '--ctstate',
        'NEW',
        '-j',
        'knock_policy',
      ],
      [
        '-I',
        'INPUT',
        '2',
        '-p',
        'udp',
        '-m',
        'udp',
        '--dport',
        '53',
        '-m',
        'conntrack',
        '--ctstate',
        'NEW',
        '-j',
        'knock_policy',
      ],
    ]);
  });

  it('give grants and timed bans a kernel-checked --datestop, none when forever', () => {
    const until = Date.parse('2030-01-02T03:04:05.000Z');
    expect(grantRule(c, '192.0.2.1', { port: 22, protocol: 'tcp' }, until)).toEqual([
      '-I',
      'knock_filter',
      '-s',
      '192.0.2.1',
      '-p',
      'tcp',
      '-m',
      'tcp',
      '--dport',
      '22',
      '-m',
      'time',
      '--datestop',
      '2030-01-02T03:04:04',
      '-j',
      'ACCEPT',
    ]);
    expect(banRule(c, '2001:db8::1')).toEqual([
      '-I',
      'knock_banned',
      '-s',
      '2001:db8::1',
      '-j',
      'DROP',
    ]);
  });

  it('round the expiry to the nearest second', () => {
    expect(datestop(Date.parse('2030-01-01T00:00:10.400Z'))).toBe('2030-01-01T00:00:09');
    expect(datestop(Date.parse('2030-01-01T00:00:10.600Z'))).toBe('2030-01-01T00:00:10');
  });
});

describe('parseIptablesS', () => {
  // As printed by `iptables -S` (iptables 1.8.9, nf_tables).
  const text = `-P INPUT ACCEPT
-P FORWARD ACCEPT
-N knock_banned
-N knock_filter
-N knock_policy
-N knock_trusted
-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j knock_policy
-A knock_banned -s 192.0.2.66/32 -j DROP
-A knock_banned -s 192.0.2.67/32 -m time --datestop 2030-01-01T00:01:00 -j DROP
-A knock_filter -s 192.0.2.1/32 -p tcp -m tcp --dport 22 -m time --datestop 2030-01-01T00:04:59 -j ACCEPT
-A knock_filter -s 192.0.2.2/32 -p tcp -m tcp --dport 22 -m time --datestop 2029-12-31T23:00:00 -j ACCEPT
-A knock_policy -m limit --limit 10/sec --limit-burst 20 -j LOG --log-prefix "[knock,drop] "
-A knock_trusted -s 198.51.100.0/24 -j ACCEPT
`;
  const state = parseIptablesS(text);

  it('finds our chains and gives each rule a spec that -D accepts', () => {
    expect([...state.chains]).toEqual(
      expect.arrayContaining([
        'INPUT',
        'knock_banned',
        'knock_filter',
        'knock_policy',
        'knock_trusted',
      ]),
    );
    const log = state.rules.find((r) => r.target === 'LOG');
    expect(log?.spec).toEqual([
      '-m',
      'limit',
      '--limit',
      '10/sec',
      '--limit-burst',
      '20',
      '-j',
      'LOG',
      '--log-prefix',
      '[knock,drop] ',
    ]);
  });

  it('lists live grants and bans with remaining seconds, skipping expired ones', () => {
    const now = Date.parse('2030-01-01T00:00:00.000Z');
    expect(entriesOf(state, c, now)).toEqual([
      { kind: 'ban', address: '192.0.2.66' },
      { kind: 'ban', address: '192.0.2.67', remaining: 61 },
      { kind: 'grant', address: '192.0.2.1', port: { protocol: 'tcp', port: 22 }, remaining: 300 },
      { kind: 'trusted', address: '198.51.100.0/24' },
    ]);
  });

  it('splits quoted words', () => {
    expect(splitRule('-A x --log-prefix "a \\"b\\" c" -j LOG')).toEqual([
      '-A',
      'x',
      '--log-prefix',
      'a "b" c',
      '-j',
      'LOG',
    ]);
  });
});
