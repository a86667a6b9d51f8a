import { describe, expect, it } from 'vitest';
import { KnockError, ExitCode } from '@knock/shared';
import {
  parseHost,
  parseNetwork,
  requireHost,
  requireNetwork,
} from '../../src/firewall/address.js';

describe('parseHost', () => {
  it.each([
    ['192.0.2.1', 4, '192.0.2.1'],
    ['2001:DB8::0:1', 6, '2001:db8::1'],
    ['::ffff:192.0.2.5', 4, '192.0.2.5'],
  ])('%s is an IPv%i address %s', (text, family, address) => {
    expect(parseHost(text)).toEqual({ family, address });
  });

  it.each([
    '10.1',
    '0x7f.0.0.1',
    '192.0.2.256',
    '192.0.2.0/24',
    'fe80::1%eth0',
    '',
    'host',
    '1.2.3.4 ',
  ])('rejects %j', (text) => expect(parseHost(text)).toBeUndefined());
});

describe('parseNetwork', () => {
  it('canonicalises and flags host bits', () => {
    expect(parseNetwork('192.0.2.7/24')).toEqual({
      family: 4,
      cidr: '192.0.2.0/24',
      hostBitsSet: true,
    });
    expect(parseNetwork('2001:db8::/32')).toEqual({
      family: 6,
      cidr: '2001:db8::/32',
      hostBitsSet: false,
    });
    expect(parseNetwork('2001:db8::5/128')).toEqual({
      family: 6,
      cidr: '2001:db8::5',
      hostBitsSet: false,
    });
  });
  it.each(['192.0.2.0/33', '1.2.3.4/-1', '2001:db8::/200', '/24', '192.0.2.0/2a'])(
    'rejects %j',
    (t) => expect(parseNetwork(t)).toBeUndefined(),
  );
});

describe('requireHost / requireNetwork', () => {
  it('throw a usage KnockError naming the value', () => {
    expect(() => requireHost('999.1.1.1')).toThrow(KnockError);
    try {
      requireNetwork('10.0.0.0/99');
    } catch (error) {
      expect(error).toMatchObject({ code: 'firewall.badAddress', exitCode: ExitCode.usage });
      expect((error as Error).message).toBe("invalid address or CIDR '10.0.0.0/99'");
    }
    expect.assertions(3);
  });
});
