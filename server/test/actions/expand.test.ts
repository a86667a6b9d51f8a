import { describe, expect, it } from 'vitest';
import { KnockError } from '@knock/shared';
import { expandCommand, MAX_COMMAND_BYTES } from '../../src/actions/expand.js';

describe('expandCommand', () => {
  it('replaces every %IP% with the address', () => {
    expect(expandCommand('rep %IP% %IP%', '127.0.0.2')).toBe('rep 127.0.0.2 127.0.0.2');
    expect(expandCommand('ip6tables -A INPUT -s %IP% -j ACCEPT', '2001:db8::1')).toBe(
      'ip6tables -A INPUT -s 2001:db8::1 -j ACCEPT',
    );
  });

  it('leaves other text alone (the variable is case-sensitive, as in knockd)', () => {
    expect(expandCommand('echo %ip% %IP %', '192.0.2.1')).toBe('echo %ip% %IP %');
    expect(expandCommand('/usr/local/bin/open', '192.0.2.1')).toBe('/usr/local/bin/open');
  });

  it('refuses a command reaching 4096 bytes once expanded, counting bytes', () => {
    const fits = 'x'.repeat(MAX_COMMAND_BYTES - 1 - '192.0.2.1'.length) + '%IP%';
    expect(Buffer.byteLength(expandCommand(fits, '192.0.2.1'))).toBe(4095);
    const tooLong = 'x' + fits;
    expect(() => expandCommand(tooLong, '192.0.2.1')).toThrow(KnockError);
    try {
      expandCommand('é'.repeat(2048), '192.0.2.1'); // 4096 bytes, 2048 characters
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(KnockError);
      expect((error as KnockError).code).toBe('command.tooLong');
    }
  });
});
