/**
 * Issue 9 item 20: knockd trims only C's isspace() (space, \t, \n, \v, \f, \r). A no-break
 * space or any other Unicode space stays in the value, where knockd's atoi() reads port 0
 * (or stops): the parsers must not accept what JavaScript's trim() and \s would strip.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, parseSequence } from '@knock/shared';

// Every character JS trim() removes that C's isspace() does not.
const UNICODE_SPACES = [
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u2007',
  '\u2009',
  '\u200a',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
];

describe('Unicode spaces in a Sequence', () => {
  it.each(UNICODE_SPACES)('U+%s before a port is an error naming it, not a knock', (space) => {
    const parsed = parseSequence(`1228,${space}1227`, { line: 3, column: 14 });
    expect(parsed.knocks).toEqual([{ port: 1228, protocol: 'tcp' }]);
    const issue = parsed.issues.find((i) => i.severity === 'error');
    expect(issue?.code).toBe('sequence.unicodeSpace');
    expect(issue?.message).toContain('which knockd does not treat as a blank: it reads port 0');
    expect(issue?.column).toBe(14 + 5);
  });

  it('after a port or around a protocol too', () => {
    expect(parseSequence('1228\u00a0,1227').issues.map((i) => i.code)).toEqual([
      'sequence.unicodeSpace',
    ]);
    expect(parseSequence('1228:\u00a0udp').issues.map((i) => i.code)).toEqual([
      'sequence.protocol',
    ]);
    expect(parseSequence('\u00a0').issues.map((i) => i.code)).toEqual(['sequence.unicodeSpace']);
  });

  it('C blanks are still trimmed, as knockd does', () => {
    expect(parseSequence(' \t1228 , \v1227:udp\f').issues).toEqual([]);
  });

  it('in a whole config: "Sequence = 1228,\\u00a01227" is an error at the right column', () => {
    const parsed = parseConfig('[ssh]\n  Sequence = 1228,\u00a01227\n  Command = true\n', 'k.conf');
    expect(parsed.issues).toMatchObject([
      { severity: 'error', code: 'sequence.unicodeSpace', file: 'k.conf', line: 2, column: 19 },
    ]);
    expect(parsed.config.doors[0]?.sequence).toEqual([{ port: 1228, protocol: 'tcp' }]);
  });

  it('no sequence with a Unicode space anywhere parses clean', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.constantFrom(...UNICODE_SPACES),
        (ports, at, space) => {
          const text = ports.join(',');
          const i = at % (text.length + 1);
          const parsed = parseSequence(text.slice(0, i) + space + text.slice(i));
          expect(parsed.issues.some((x) => x.severity === 'error')).toBe(true);
        },
      ),
    );
  });
});

describe('sibling parsers', () => {
  it('Open_Ports: "22\\u00a0/tcp" is not a port', () => {
    const parsed = parseConfig('[ssh]\n  Sequence = 1228\n  Open_Ports = 22\u00a0/tcp\n');
    expect(parsed.issues.map((i) => i.code)).toEqual(['config.openPorts.invalid']);
  });

  it('Interface: a no-break space is not part of a name', () => {
    const parsed = parseConfig('[options]\n  Interface = eth0\u00a0\n');
    expect(parsed.issues.map((i) => i.code)).toEqual(['config.interface.invalid']);
  });
});
