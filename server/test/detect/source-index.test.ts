import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NONE } from '../../src/detect/plan.js';
import { ipv4Text, parseIPv4, SourceIndex } from '../../src/detect/source-index.js';

describe('IPv4 text', () => {
  it('parses canonical dotted quads only', () => {
    expect(parseIPv4('192.0.2.7')).toBe(0xc0000207);
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    for (const text of [
      '192.0.2',
      '192.0.2.7.1',
      '192.0.2.07',
      '192.0.2.256',
      '1..2.3',
      '',
      '2001:db8::1',
      '192.0.2.7 ',
    ])
      expect(parseIPv4(text), text).toBe(-1);
  });

  it('prints what it parses', () => {
    fc.assert(
      fc.property(fc.ipV4(), (text) => {
        expect(ipv4Text(parseIPv4(text))).toBe(text);
      }),
    );
  });
});

describe('source index', () => {
  it('keys IPv4 sources by number and the others by text', () => {
    const index = new SourceIndex(1000);
    index.set(0xc0000207, '', 5);
    index.set(-1, '2001:db8::1', 6);
    expect(index.get(0xc0000207, 'any text')).toBe(5);
    expect(index.get(-1, '2001:db8::1')).toBe(6);
    expect(index.get(-1, '192.0.2.7')).toBe(NONE);
    index.set(0xc0000207, '', 7);
    expect(index.get(0xc0000207, '')).toBe(7);
    index.delete(0xc0000207, '');
    index.delete(-1, '2001:db8::1');
    expect([index.get(0xc0000207, ''), index.get(-1, '2001:db8::1')]).toEqual([NONE, NONE]);
  });

  it('holds many sources of both kinds at once', () => {
    const index = new SourceIndex(20_000);
    for (let i = 0; i < 10_000; i++) {
      index.set(0x0a800000 + i, '', i);
      index.set(-1, `2001:db8::${i.toString(16)}`, 10_000 + i);
    }
    for (let i = 0; i < 10_000; i += 997) {
      expect(index.get(0x0a800000 + i, '')).toBe(i);
      expect(index.get(-1, `2001:db8::${i.toString(16)}`)).toBe(10_000 + i);
    }
  });
});
