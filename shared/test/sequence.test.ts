import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSequence, parseSequence, type Knock } from '@knock/shared';

const errorCodes = (value: string) =>
  parseSequence(value)
    .issues.filter((i) => i.severity === 'error')
    .map((i) => i.code);

describe('parseSequence', () => {
  it('reads knockd syntax as knockd does when the author meant it', () => {
    expect(parseSequence('1228,1227').knocks).toEqual([
      { port: 1228, protocol: 'tcp' },
      { port: 1227, protocol: 'tcp' },
    ]);
    expect(parseSequence(' 7000:udp , 8000:TCP,9000 : Udp').knocks).toEqual([
      { port: 7000, protocol: 'udp' },
      { port: 8000, protocol: 'tcp' },
      { port: 9000, protocol: 'udp' },
    ]);
    expect(parseSequence('1226,1226').knocks).toHaveLength(2);
  });

  it('rejects what knockd silently misreads, naming the column', () => {
    expect(errorCodes('7000,8000,')).toEqual(['sequence.emptyElement']);
    expect(errorCodes('ssh,80')).toEqual(['sequence.serviceName']);
    expect(errorCodes('-1')).toEqual(['sequence.portNegative']);
    expect(errorCodes('1 # comment')).toEqual(['sequence.trailingText']);
    expect(errorCodes('1:tcp # comment')).toEqual(['sequence.trailingText']);
    expect(errorCodes('70000')).toEqual(['sequence.portRange']);
    expect(errorCodes('0')).toEqual(['sequence.portRange']);
    expect(errorCodes('1:icmp')).toEqual(['sequence.protocol']);
    expect(errorCodes('')).toEqual(['sequence.empty']);
    expect(errorCodes(Array.from({ length: 33 }, (_, i) => i + 1).join(','))).toEqual([
      'sequence.tooLong',
    ]);
    const [issue] = parseSequence('7000, 8000,', { file: 'k.conf', line: 4, column: 16 }).issues;
    expect(issue).toMatchObject({ file: 'k.conf', line: 4, column: 27 });
  });

  it('warns about a third field that knockd ignores', () => {
    const parsed = parseSequence('2:tcp:junk');
    expect(parsed.knocks).toEqual([{ port: 2, protocol: 'tcp' }]);
    expect(parsed.issues.map((i) => [i.severity, i.code])).toEqual([
      ['warning', 'sequence.extraField'],
    ]);
  });

  it('round-trips through formatSequence', () => {
    const knock = fc.record({
      port: fc.integer({ min: 1, max: 65535 }),
      protocol: fc.constantFrom<Knock['protocol']>('tcp', 'udp'),
    });
    fc.assert(
      fc.property(fc.array(knock, { minLength: 1, maxLength: 32 }), (knocks) => {
        const parsed = parseSequence(formatSequence(knocks));
        expect(parsed.issues).toEqual([]);
        expect(parsed.knocks).toEqual(knocks);
      }),
    );
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string(), (text) => void parseSequence(text)));
  });
});
