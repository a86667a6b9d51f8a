import { describe, expect, it } from 'vitest';
import { formatIssue } from '@knock/shared';
import { parseTrustedFile } from '../../src/firewall/trusted.js';

// The seed deployment's /etc/knockd/knockd.trusted, as published.
const SEED = `# machines autorisées sans contrôle de
# knocking sur le serveur ssh :

ssh.maths.fr # i.e. ssh.maths.fr
29.123.4.0/24 #
29.123.21.0/24 #
30.28.121.188 #
`;

describe('parseTrustedFile', () => {
  it('reads the seed file: a name, two networks and an address, comments and blanks skipped', () => {
    const { entries, issues } = parseTrustedFile(SEED, '/etc/knockd/knockd.trusted');
    expect(issues).toEqual([]);
    expect(entries).toEqual([
      { kind: 'hostname', name: 'ssh.maths.fr', line: 4 },
      { kind: 'cidr', family: 4, cidr: '29.123.4.0/24', line: 5 },
      { kind: 'cidr', family: 4, cidr: '29.123.21.0/24', line: 6 },
      { kind: 'address', family: 4, address: '30.28.121.188', line: 7 },
    ]);
  });

  it('reads IPv6 addresses and networks, canonicalised, and CRLF line ends', () => {
    const { entries, issues } = parseTrustedFile('2001:DB8:0::7\r\n2001:db8:1::/48 # lab\r\n');
    expect(issues).toEqual([]);
    expect(entries).toEqual([
      { kind: 'address', family: 6, address: '2001:db8::7', line: 1 },
      { kind: 'cidr', family: 6, cidr: '2001:db8:1::/48', line: 2 },
    ]);
  });

  it('treats a full-length prefix as an address', () => {
    const { entries } = parseTrustedFile('192.0.2.9/32\n');
    expect(entries).toEqual([{ kind: 'address', family: 4, address: '192.0.2.9', line: 1 }]);
  });

  it.each([
    ['300.1.2.3', 'invalid address', 'trusted.badAddress'],
    ['192.0.2.0/33', 'invalid CIDR', 'trusted.badAddress'],
    ['192.0.2.0/', 'invalid CIDR', 'trusted.badAddress'],
    ['10.1', 'invalid address', 'trusted.badAddress'],
    ['2001:db8:::1', 'invalid address', 'trusted.badAddress'],
    ['2001:db8::/129', 'invalid CIDR', 'trusted.badAddress'],
    ['fe80::1%eth0', 'invalid address', 'trusted.badAddress'],
    ['host_name!', 'invalid host name', 'trusted.badHostname'],
  ])('reports %s as an error naming file:line:column and the token', (token, message, code) => {
    const { entries, issues } = parseTrustedFile(
      `192.0.2.1\n  ${token} # oops\n10.0.0.0/8\n`,
      't.txt',
    );
    expect(entries.map((e) => e.line)).toEqual([1, 3]);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'error', code, line: 2, column: 3, file: 't.txt' });
    expect(formatIssue(issues[0]!)).toContain(`t.txt:2:3: error: ${message} '${token}'`);
  });

  it('warns about host bits and trusts the whole network', () => {
    const { entries, issues } = parseTrustedFile('192.0.2.77/24\n');
    expect(entries).toEqual([{ kind: 'cidr', family: 4, cidr: '192.0.2.0/24', line: 1 }]);
    expect(issues[0]).toMatchObject({ severity: 'warning', code: 'trusted.hostBits' });
  });

  it('warns about a second word (the seed script ignored it) and keeps the first', () => {
    const { entries, issues } = parseTrustedFile('192.0.2.1 i.e. gateway\n');
    expect(entries).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'warning', code: 'trusted.extraText', line: 1 });
  });

  it('gives the same result for the seed file with every line split anywhere by comments', () => {
    const whole = parseTrustedFile(SEED);
    const commented = parseTrustedFile(SEED.replace(/\n/g, ' # x\n# y\n'));
    expect(commented.entries.map(({ line: _l, ...e }) => e)).toEqual(
      whole.entries.map(({ line: _l, ...e }) => e),
    );
    expect(commented.issues).toEqual([]);
  });
});
