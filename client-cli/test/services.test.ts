import { readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lookupService, parseServices } from '../src/services.js';

describe('parseServices', () => {
  it('reads names, aliases and both protocols, ignoring comments and junk', () => {
    const table = parseServices(
      'ssh 22/tcp # comment\nhttp 80/tcp www www-http\ndomain 53/tcp\ndomain 53/udp\nbad line\nx 5/sctp\n#y 6/tcp\n',
    );
    expect(table.get('ssh')).toEqual({ tcp: 22 });
    expect(table.get('www')).toEqual({ tcp: 80 });
    expect(table.get('domain')).toEqual({ tcp: 53, udp: 53 });
    expect(table.has('x')).toBe(false);
    expect(table.has('y')).toBe(false);
    expect(table.has('bad')).toBe(false);
  });

  it('the first line for a name wins', () => {
    expect(parseServices('a 1/tcp\na 2/tcp\n').get('a')).toEqual({ tcp: 1 });
  });

  it.runIf(existsSync('/etc/services'))("reads this machine's /etc/services", () => {
    const table = parseServices(readFileSync('/etc/services', 'utf8'));
    expect(lookupService(table, 'ssh', 'tcp')).toBe(22);
  });
});

describe('lookupService', () => {
  const table = parseServices('openvpn 1194/udp\nboth 7/tcp\nboth 8/udp\n');
  it('prefers the protocol asked for, else the other', () => {
    expect(lookupService(table, 'openvpn', 'tcp')).toBe(1194);
    expect(lookupService(table, 'both', 'udp')).toBe(8);
    expect(lookupService(table, 'nope', 'tcp')).toBeUndefined();
  });
});
