import { describe, expect, it } from 'vitest';
import { errorText, formatEndpoint, formatSeconds } from '@knock/shared';

describe('formatEndpoint', () => {
  it('brackets IPv6 addresses only', () => {
    expect(formatEndpoint('192.0.2.2', 22)).toBe('192.0.2.2:22');
    expect(formatEndpoint('2001:db8::2', 22)).toBe('[2001:db8::2]:22');
    expect(formatEndpoint('::ffff:192.0.2.2', '22')).toBe('[::ffff:192.0.2.2]:22');
    expect(formatEndpoint('ssh.maths.fr', 22)).toBe('ssh.maths.fr:22');
  });
});

describe('formatSeconds', () => {
  it('writes whole seconds bare and others with one decimal', () => {
    expect(formatSeconds(5000)).toBe('5 s');
    expect(formatSeconds(2500)).toBe('2.5 s');
    expect(formatSeconds(86_400_000)).toBe('86400 s');
  });
});

describe('errorText', () => {
  it("is an Error's message, anything else as a string", () => {
    expect(errorText(new TypeError('bad type'))).toBe('bad type');
    expect(errorText('plain')).toBe('plain');
    expect(errorText(42)).toBe('42');
    expect(errorText(undefined)).toBe('undefined');
  });
});
