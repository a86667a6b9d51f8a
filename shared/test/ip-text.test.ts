import { formatIpv6Words } from '@knock/shared';
import { describe, expect, it } from 'vitest';

describe('formatIpv6Words', () => {
  it('compresses the first longest run of two or more zero words', () => {
    expect(formatIpv6Words([0, 0, 0, 0, 0, 0, 0, 0])).toBe('::');
    expect(formatIpv6Words([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])).toBe('2001:db8::1:0:0:1');
    expect(formatIpv6Words([1, 0, 2, 3, 4, 5, 6, 7])).toBe('1:0:2:3:4:5:6:7');
    expect(formatIpv6Words([1, 0, 0, 1, 0, 0, 0, 0])).toBe('1:0:0:1::');
  });

  it('writes IPv4-compatible and -mapped addresses with a dotted tail', () => {
    expect(formatIpv6Words([0, 0, 0, 0, 0, 0, 0x0102, 0x0304])).toBe('::1.2.3.4');
    expect(formatIpv6Words([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201])).toBe('::ffff:192.0.2.1');
    expect(formatIpv6Words([0, 0, 0, 0, 0, 0, 0, 1])).toBe('::1');
  });
});
