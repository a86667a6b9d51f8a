import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acceptedSteps,
  blockMessage,
  checkRotating,
  deriveSequence,
  drawPorts,
  formatSecret,
  parsePortRange,
  parseSecret,
  ROTATING_DEFAULTS,
  stepAt,
  stepStartMs,
  type RotatingSpec,
} from '../src/rotating.js';
import { formatSequence } from '../src/sequence.js';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const spec = (over: Partial<RotatingSpec> = {}): RotatingSpec => ({
  secret: parseSecret(SECRET).secret!,
  label: 'ssh',
  length: ROTATING_DEFAULTS.length,
  step: ROTATING_DEFAULTS.step,
  low: ROTATING_DEFAULTS.low,
  high: ROTATING_DEFAULTS.high,
  protocols: 'tcp',
  ...over,
});
const text = (s: RotatingSpec, family: 4 | 6, t: number) =>
  formatSequence(deriveSequence(s, family, t));

describe('deriveSequence: fixed vectors', () => {
  // Computed by an independent implementation of the README's derivation (Python's hmac
  // and base64 modules), not by this code.
  it.each([
    ['ipv4, step 1966666', spec(), 4, 1966666, '64674,50087,58258,54702'],
    ['ipv6, same step', spec(), 6, 1966666, '17253,58887,62131,35172'],
    ['ipv4, the next step', spec(), 4, 1966667, '51864,26810,45932,48376'],
    ['another door, same secret', spec({ label: 'web' }), 4, 1966666, '49735,28450,24339,21673'],
    [
      '8 knocks, mixed protocols',
      spec({ length: 8, protocols: 'mixed' }),
      4,
      1966666,
      '64674:udp,50087,58258:udp,54702:udp,52784,45458:udp,27226,58354',
    ],
    [
      'udp, a small range',
      spec({ length: 2, low: 40000, high: 40999, protocols: 'udp' }),
      6,
      56666666,
      '40048:udp,40047:udp',
    ],
  ] as const)('%s', (_, s, family, t, expected) => {
    expect(text(s, family, t)).toBe(expected);
  });

  it('feeds HMAC-SHA-256 the documented message', () => {
    const m = blockMessage('ssh', 6, 0x0102030405, 7);
    expect(m.toString('hex')).toBe(
      Buffer.from('knock-rotating-v1\0ssh\0', 'utf8').toString('hex') +
        '06' +
        '0000000102030405' +
        '07',
    );
    // The first port is the first 32-bit word of block 0 when it is below the zone.
    const mac = createHmac('sha256', spec().secret)
      .update(blockMessage('ssh', 4, 1966666, 0))
      .digest();
    expect(deriveSequence(spec(), 4, 1966666)[0]?.port).toBe(10000 + (mac.readUInt32BE(0) % 55001));
  });
});

describe('drawPorts: without bias', () => {
  const stream = (values: number[]) => values[Symbol.iterator]();

  it('skips a word in the biased zone instead of folding it with %', () => {
    // Range 3: 2^32 mod 3 = 1, so the zone ends at 0xFFFFFFFF: that word is skipped.
    // `x % 3` would take it and give 1000 + 0; the next word (1) gives 1001.
    expect(drawPorts(stream([0xffffffff, 1, 0, 2]), 1, 1000, 1002).ports).toEqual([1001]);
    // Range 55001 (the default): the zone ends at 2^32 - (2^32 mod 55001).
    const zone = 2 ** 32 - (2 ** 32 % 55001);
    expect(drawPorts(stream([zone, zone - 1, 5]), 1, 10000, 65000).ports).toEqual([
      10000 + ((zone - 1) % 55001),
    ]);
  });

  it('never draws a port twice, and says what word comes next', () => {
    expect(drawPorts(stream([0, 0, 3, 1, 42]), 2, 1000, 1002)).toEqual({
      ports: [1000, 1001],
      next: 42,
    });
  });
});

describe('deriveSequence: properties', () => {
  it('ports are uniform over the range (chi-square over 3,000 steps)', () => {
    const s = spec({ low: 20000, high: 20099 });
    const counts = new Array<number>(100).fill(0);
    let n = 0;
    for (let t = 0; t < 3000; t++)
      for (const k of deriveSequence(s, 4, t)) {
        counts[k.port - 20000]!++;
        n++;
      }
    const expected = n / 100;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 99 degrees of freedom: the 99.9th percentile is 148.2.
    expect(chi2).toBeLessThan(148.2);
    expect(Math.min(...counts)).toBeGreaterThan(0);
  });

  it('no port twice in a sequence, every port in the range, the length asked', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 40 }),
        fc.string({ maxLength: 12 }),
        fc.constantFrom<4 | 6>(4, 6),
        fc.nat({ max: 2 ** 40 }),
        fc.integer({ min: 2, max: 32 }),
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 0, max: 200 }),
        (secret, label, family, t, length, low, width) => {
          const high = Math.min(65535, low + length - 1 + width);
          fc.pre(high - low + 1 >= length);
          const seq = deriveSequence(spec({ secret, label, length, low, high }), family, t);
          expect(seq).toHaveLength(length);
          expect(new Set(seq.map((k) => k.port)).size).toBe(length);
          for (const k of seq) expect(k.port >= low && k.port <= high).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the sequence changes with the step, the family, the door and the secret', () => {
    const base = text(spec(), 4, 100);
    expect(text(spec(), 4, 101)).not.toBe(base);
    expect(text(spec(), 6, 100)).not.toBe(base);
    expect(text(spec({ label: 'ssh2' }), 4, 100)).not.toBe(base);
    expect(text(spec({ secret: new Uint8Array(16) }), 4, 100)).not.toBe(base);
  });
});

describe('steps', () => {
  it('a step is floor(unix seconds / step); boundaries belong to the new step', () => {
    expect(stepAt(59_999_999, 30)).toBe(1999);
    expect(stepAt(60_000_000, 30)).toBe(2000);
    expect(stepAt(60_029_999, 30)).toBe(2000);
    expect(stepAt(60_030_000, 30)).toBe(2001);
    expect(stepStartMs(2001, 30)).toBe(60_030_000);
    expect(stepAt(Date.UTC(2026, 11, 2), 60)).toBe(Date.UTC(2026, 11, 2) / 60_000);
  });

  it('accepts skew steps either side, oldest first', () => {
    expect(acceptedSteps(100, 1)).toEqual([99, 100, 101]);
    expect(acceptedSteps(100, 0)).toEqual([100]);
    expect(acceptedSteps(100, 2)).toEqual([98, 99, 100, 101, 102]);
  });
});

describe('secrets and ranges', () => {
  it('reads base32 as authenticator apps write it', () => {
    const bytes = parseSecret(SECRET).secret!;
    expect(bytes).toHaveLength(20);
    expect(parseSecret('jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp').secret).toEqual(bytes);
    expect(parseSecret('JBSWY3DP-EHPK3PXP-JBSWY3DP-EHPK3PXP====').secret).toEqual(bytes);
    expect(formatSecret(bytes)).toBe(SECRET);
  });

  it.each([
    ['', 'empty'],
    ['JBSWY3DPEHPK3PXP', 'too short: 80 bits, at least 128'],
    ['JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PX1', "not base32: '1'"],
    ['JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PX', 'whole number of bytes'],
  ])('refuses %j', (input, words) => {
    const r = parseSecret(input);
    expect(r.secret).toBeUndefined();
    expect(r.problem).toContain(words);
  });

  it('reads port ranges', () => {
    expect(parsePortRange('10000-65000')).toEqual({ low: 10000, high: 65000 });
    expect(parsePortRange(' 1 - 2 ')).toEqual({ low: 1, high: 2 });
    expect(parsePortRange('2-1').problem).toContain('low first');
    expect(parsePortRange('0-10').problem).toContain('1-65535');
    expect(parsePortRange('1-70000').problem).toContain('1-65535');
    expect(parsePortRange('10000').problem).toContain('LOW-HIGH');
  });

  it('checks length, step and range with the names the caller uses', () => {
    const names = { length: 'Sequence_Length', step: 'Sequence_Step', ports: 'Sequence_Ports' };
    expect(checkRotating({ length: 4, step: 30, low: 10000, high: 65000 }, names)).toEqual([]);
    expect(checkRotating({ length: 1, step: 30, low: 1, high: 9 }, names)[0]).toContain(
      'Sequence_Length',
    );
    expect(checkRotating({ length: 33, step: 30, low: 1, high: 99 }, names)[0]).toContain(
      '2 to 32',
    );
    expect(checkRotating({ length: 4, step: 0, low: 1, high: 99 }, names)[0]).toContain(
      'Sequence_Step',
    );
    expect(checkRotating({ length: 4, step: 1.5, low: 1, high: 99 }, names)[0]).toContain(
      'Sequence_Step',
    );
    expect(checkRotating({ length: 5, step: 30, low: 1, high: 4 }, names)[0]).toContain(
      'Sequence_Ports 1-4 holds 4 ports, fewer than the 5',
    );
  });
});
