import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KnockError, parseConfig, serializeConfig, type Door } from '@knock/shared';
import { arbitraryConfig, withoutLines } from './arbitraries.js';

describe('serializeConfig', () => {
  it('writes the seed config back to text that parses to the same doors', () => {
    const seed = parseConfig(
      readFileSync(new URL('../fixtures/seed-knockd.conf', import.meta.url), 'utf8'),
    ).config;
    const text = serializeConfig(seed);
    expect(text).toContain('[options]\n    UseSyslog\n    PidFile = /var/run/knockd.pid\n');
    expect(text).toContain(
      '[opencloseSSH]\n    Sequence = 1228,1227\n    Seq_Timeout = 15\n    TCPFlags = syn\n',
    );
    const again = parseConfig(text);
    expect(again.issues).toEqual([]);
    expect(withoutLines(again.config)).toEqual(withoutLines(seed));
  });

  it('writes flags in knockd order with ! for must-be-clear, and an empty _6 command', () => {
    const door: Door = {
      name: 'd',
      line: 1,
      sequence: [{ port: 7000, protocol: 'udp' }],
      seqTimeout: 5,
      tcpFlags: { ack: false, syn: true },
      startCommand: 'open %IP%',
      startCommand6: '',
      cmdTimeout: 10,
    };
    expect(serializeConfig({ options: { useSyslog: false }, doors: [door] })).toBe(
      [
        '[d]',
        '    Sequence = 7000:udp',
        '    Seq_Timeout = 5',
        '    TCPFlags = syn,!ack',
        '    Start_Command = open %IP%',
        '    Start_Command_6 =',
        '',
      ].join('\n'),
    );
  });

  it('refuses configs no knockd.conf can express', () => {
    const base: Door = {
      name: 'd',
      line: 1,
      sequence: [{ port: 1, protocol: 'tcp' }],
      seqTimeout: 25,
      tcpFlags: {},
      cmdTimeout: 10,
    };
    const bad: Door[] = [
      { ...base, sequence: [] },
      { ...base, name: 'options' },
      { ...base, startCommand: 'a\nb' },
      { ...base, startCommand: ' leading blank' },
      { ...base, oneTimeSequences: '/x', sequence: base.sequence },
    ];
    for (const door of bad) {
      expect(() => serializeConfig({ options: { useSyslog: false }, doors: [door] })).toThrow(
        KnockError,
      );
    }
  });

  it('round-trips: parse(serialize(c)) equals c, with no error', () => {
    fc.assert(
      fc.property(arbitraryConfig(), (config) => {
        const parsed = parseConfig(serializeConfig(config));
        expect(parsed.issues.filter((i) => i.severity === 'error')).toEqual([]);
        expect(withoutLines(parsed.config)).toEqual(withoutLines(config));
      }),
      { numRuns: 300 },
    );
  });

  it('is a fixed point: serialize(parse(serialize(c))) is the same text', () => {
    fc.assert(
      fc.property(arbitraryConfig(), (config) => {
        const text = serializeConfig(config);
        expect(serializeConfig(parseConfig(text).config)).toBe(text);
      }),
      { numRuns: 100 },
    );
  });
});
