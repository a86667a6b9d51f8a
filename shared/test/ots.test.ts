import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  currentSequence,
  ExitCode,
  formatSequence,
  generateOts,
  KnockError,
  decodeOts,
  markUsed,
  markUsedBytes,
  parseOtsFile,
  type Knock,
} from '@knock/shared';

const tcp = (port: number): Knock => ({ port, protocol: 'tcp' });
const udp = (port: number): Knock => ({ port, protocol: 'udp' });

/** A deterministic random source (xorshift), so failures replay. */
function seeded(seed: number): (max: number) => number {
  let s = seed >>> 0 || 1;
  return (max) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % max;
  };
}

describe('parseOtsFile', () => {
  it('skips blank and # lines, keeps valid lines in order with their line numbers', () => {
    const text = '# header\n\n#003:udp,2004\n 7001:udp,7002\n\t7003,7004  \r\n   # note\n 7005\n';
    const { entries, issues } = parseOtsFile(text, 'ssh.ots');
    expect(issues).toEqual([]);
    expect(entries).toEqual([
      { line: 4, knocks: [udp(7001), tcp(7002)] },
      { line: 5, knocks: [tcp(7003), tcp(7004)] },
      { line: 7, knocks: [tcp(7005)] },
    ]);
  });

  it('skips bad lines and reports them with file, line and column', () => {
    const { entries, issues } = parseOtsFile(' 1:icmp\n x,y\n 7000,\n 8000\n', 'f.ots');
    expect(entries).toEqual([{ line: 4, knocks: [tcp(8000)] }]);
    expect(issues.map((i) => [i.code, i.line, i.column, i.file])).toEqual([
      ['ots.sequence.protocol', 1, 2, 'f.ots'],
      ['ots.sequence.serviceName', 2, 2, 'f.ots'],
      ['ots.sequence.serviceName', 2, 4, 'f.ots'],
      ['ots.sequence.emptyElement', 3, 7, 'f.ots'],
    ]);
    for (const issue of issues) expect(issue.hint).toMatch(/comment the line out/);
  });

  it('warns about a sequence that appears twice (a replay)', () => {
    const { entries, issues } = parseOtsFile(' 1,2\n 3\n 1,2\n');
    expect(entries).toHaveLength(3);
    expect(issues).toMatchObject([{ severity: 'warning', code: 'ots.duplicate', line: 3 }]);
  });
});

describe('currentSequence', () => {
  it('is the first valid unused line, or undefined when none is left', () => {
    expect(currentSequence('#1\n 2,3:udp\n 4\n')).toEqual({ line: 2, knocks: [tcp(2), udp(3)] });
    expect(currentSequence('# all used\n#001\n#002\n')).toBeUndefined();
    expect(currentSequence('')).toBeUndefined();
  });
});

/** Where two byte arrays differ. */
const differences = (a: Uint8Array, b: Uint8Array): number[] =>
  [...a.keys()].filter((i) => a[i] !== b[i]);

describe('markUsedBytes', () => {
  it('changes exactly one byte: a Latin-1 comment stays Latin-1', () => {
    // "# clé d'accès" in Latin-1: é = 0xE9, è = 0xE8, not UTF-8.
    const bytes = Uint8Array.from([
      ...Buffer.from('# cl'),
      0xe9,
      ...Buffer.from(" d'acc"),
      0xe8,
      ...Buffer.from('s\n 1228,1227\n 7001\n'),
    ]);
    expect(parseOtsFile(decodeOts(bytes)).entries.map((e) => e.line)).toEqual([2, 3]);
    const marked = markUsedBytes(bytes, 2);
    expect(marked).toHaveLength(bytes.length);
    const at = bytes.indexOf(0x0a) + 1;
    expect(differences(bytes, marked)).toEqual([at]);
    expect(marked[at]).toBe(0x23);
    // The input is not changed.
    expect(bytes[at]).toBe(0x20);
  });

  it('keeps a leading byte order mark and marks the first byte after it', () => {
    const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, ...Buffer.from(' 1228,1227\n 7001\n')]);
    expect(parseOtsFile(decodeOts(bytes)).entries[0]).toEqual({
      line: 1,
      knocks: [tcp(1228), tcp(1227)],
    });
    const marked = markUsedBytes(bytes, 1);
    expect(differences(bytes, marked)).toEqual([3]);
    expect(Buffer.from(marked).toString('utf8')).toBe('\uFEFF#1228,1227\n 7001\n');
    expect(markUsed('\uFEFF 1,2\n 3\n', 1)).toBe('\uFEFF#1,2\n 3\n');
  });

  it('changes exactly one byte whatever else the file holds (property)', () => {
    const line = fc.oneof(
      fc
        .array(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 4 })
        .map((ports) => Buffer.from(` ${ports.join(',')}`)),
      // Comments with any bytes but a newline: Latin-1, broken UTF-8, NUL, CR.
      fc
        .uint8Array({ maxLength: 16 })
        .map((b) => Buffer.concat([Buffer.from('#'), Buffer.from(b.filter((x) => x !== 0x0a))])),
    );
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(line, { minLength: 1, maxLength: 12 }),
        fc.nat(),
        (bom, lines, pick) => {
          const bytes = Uint8Array.from(
            Buffer.concat([
              Buffer.from(bom ? [0xef, 0xbb, 0xbf] : []),
              ...lines.flatMap((l) => [l, Buffer.from('\n')]),
            ]),
          );
          const { entries } = parseOtsFile(decodeOts(bytes));
          fc.pre(entries.length > 0);
          const entry = entries[pick % entries.length]!;
          const marked = markUsedBytes(bytes, entry.line);
          const changed = differences(bytes, marked);
          expect(changed).toHaveLength(1);
          expect(marked[changed[0]!]).toBe(0x23);
          expect(parseOtsFile(decodeOts(marked)).entries).toEqual(
            entries.filter((e) => e !== entry),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('markUsed', () => {
  it("turns the line's first character into # in place, like knockd", () => {
    const text = '# header\n 7001:udp,7002\n2003:udp,2004\n 7005\n';
    const once = markUsed(text, 2);
    expect(once).toBe('# header\n#7001:udp,7002\n2003:udp,2004\n 7005\n');
    expect(once).toHaveLength(text.length);
    // Without the leading space the first digit is lost, exactly as in knockd.
    expect(markUsed(once, 3)).toBe('# header\n#7001:udp,7002\n#003:udp,2004\n 7005\n');
    expect(currentSequence(markUsed(once, 3))?.knocks).toEqual([tcp(7005)]);
  });

  it('keeps CRLF line endings and a missing final newline', () => {
    expect(markUsed(' 1\r\n 2\r\n 3', 3)).toBe(' 1\r\n 2\r\n#3');
    expect(markUsed(' 1\r\n 2\r\n 3', 2)).toBe(' 1\r\n#2\r\n 3');
  });

  it('refuses a line that is not an unused valid sequence', () => {
    const text = '# header\n\n#1\n 1:icmp\n 2\n';
    for (const line of [0, 1, 2, 3, 4, 6, 99]) {
      expect(() => markUsed(text, line)).toThrow(KnockError);
    }
    try {
      markUsed(text, 1);
    } catch (error) {
      expect((error as KnockError).exitCode).toBe(ExitCode.otsFile);
    }
  });

  const otsText = fc
    .array(
      fc.oneof(
        fc
          .array(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 5 })
          .map((ports) => ` ${ports.join(',')}`),
        fc.constantFrom('', '# comment', '#1,2', ' 1:icmp', 'x', '  ', '\t9:udp'),
        fc.string({ maxLength: 12 }).filter((s) => !s.includes('\n')),
      ),
      { maxLength: 20 },
    )
    .map((lines) => lines.join('\n'));

  it('never changes another line (property)', () => {
    fc.assert(
      fc.property(otsText, fc.nat(), (text, pick) => {
        const { entries } = parseOtsFile(text);
        fc.pre(entries.length > 0);
        const entry = entries[pick % entries.length]!;
        const marked = markUsed(text, entry.line);
        const before = text.split('\n');
        const after = marked.split('\n');
        expect(after).toHaveLength(before.length);
        after.forEach((line, i) => {
          if (i === entry.line - 1) {
            expect(line).toBe(`#${before[i]!.slice(1)}`);
          } else {
            expect(line).toBe(before[i]);
          }
        });
        // Exactly that entry is gone; the others stay, in order.
        expect(parseOtsFile(marked).entries).toEqual(entries.filter((e) => e !== entry));
      }),
      { numRuns: 300 },
    );
  });

  it('using a file of N valid lines yields N distinct sequences in order (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        (n, seed) => {
          let text = generateOts({ count: n, length: 3 }, seeded(seed));
          const expected = parseOtsFile(text).entries.map((e) => formatSequence(e.knocks));
          const used: string[] = [];
          for (let current = currentSequence(text); current; current = currentSequence(text)) {
            used.push(formatSequence(current.knocks));
            text = markUsed(text, current.line);
            expect(used.length).toBeLessThanOrEqual(n);
          }
          expect(used).toEqual(expected);
          expect(new Set(used).size).toBe(n);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('generateOts', () => {
  it('writes a header and N lines, each starting with a space, parseable by knockd rules', () => {
    const text = generateOts({ count: 20, length: 4 }, seeded(42));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^# knock one-time sequences: 20 sequences of 4 knocks, ports 1024-65535\.$/,
    );
    const body = lines.filter((l) => !l.startsWith('#'));
    expect(body).toHaveLength(20);
    for (const line of body) expect(line).toMatch(/^ \d+(,\d+){3}$/);
    const { entries, issues } = parseOtsFile(text);
    expect(issues).toEqual([]);
    expect(entries).toHaveLength(20);
    for (const { knocks } of entries) {
      expect(new Set(knocks.map((k) => k.port)).size).toBe(4);
      for (const k of knocks) {
        expect(k.port).toBeGreaterThanOrEqual(1024);
        expect(k.protocol).toBe('tcp');
      }
    }
  });

  it('never repeats a port within a sequence, even when the range is exactly the length', () => {
    const text = generateOts({ count: 6, length: 3, minPort: 7000, maxPort: 7002 }, seeded(7));
    for (const { knocks } of parseOtsFile(text).entries) {
      expect(knocks.map((k) => k.port).sort()).toEqual([7000, 7001, 7002]);
    }
    expect(parseOtsFile(text).entries).toHaveLength(6);
  });

  it('mixes in UDP knocks at the asked ratio, and goes below 1024 only when asked', () => {
    const all = parseOtsFile(generateOts({ count: 10, length: 5, udpRatio: 1 }, seeded(1)));
    expect(all.entries.flatMap((e) => e.knocks).every((k) => k.protocol === 'udp')).toBe(true);
    const half = parseOtsFile(generateOts({ count: 200, length: 5, udpRatio: 0.5 }, seeded(3)));
    const knocks = half.entries.flatMap((e) => e.knocks);
    const share = knocks.filter((k) => k.protocol === 'udp').length / knocks.length;
    expect(share).toBeGreaterThan(0.4);
    expect(share).toBeLessThan(0.6);
    const low = parseOtsFile(
      generateOts({ count: 50, length: 3, minPort: 1, maxPort: 1023 }, seeded(5)),
    );
    expect(low.entries.flatMap((e) => e.knocks).every((k) => k.port >= 1 && k.port <= 1023)).toBe(
      true,
    );
  });

  it('uses crypto randomness by default, and the randomInt option', () => {
    const a = generateOts({ count: 5, length: 3 });
    const b = generateOts({ count: 5, length: 3 });
    expect(a).not.toBe(b);
    expect(generateOts({ count: 3, length: 2, randomInt: seeded(9) })).toBe(
      generateOts({ count: 3, length: 2 }, seeded(9)),
    );
  });

  it('rejects bad options with usage errors naming the flag', () => {
    const cases: [Parameters<typeof generateOts>[0], string][] = [
      [{ count: 0, length: 3 }, '--count'],
      [{ count: 1.5, length: 3 }, '--count'],
      [{ count: 5, length: 0 }, '--length'],
      [{ count: 5, length: 33 }, '--length'],
      [{ count: 5, length: 3, udpRatio: 1.5 }, '--udp-ratio'],
      [{ count: 5, length: 3, udpRatio: Number.NaN }, '--udp-ratio'],
      [{ count: 5, length: 3, minPort: 0 }, '--min-port'],
      [{ count: 5, length: 3, maxPort: 70000 }, '--max-port'],
      [{ count: 5, length: 3, minPort: 2000, maxPort: 2001 }, '--min-port'],
      [{ count: 50, length: 1, minPort: 2000, maxPort: 2009 }, '--count'],
    ];
    for (const [opts, flag] of cases) {
      let caught: unknown;
      try {
        generateOts(opts, seeded(1));
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(opts)).toBeInstanceOf(KnockError);
      expect((caught as KnockError).exitCode).toBe(ExitCode.usage);
      expect((caught as KnockError).message).toContain(flag);
    }
  });
});
