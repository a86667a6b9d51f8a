import { describe, expect, it } from 'vitest';
import { ExitCode } from '@knock/shared';
import { checkPorts, checkSeconds, parsePortSpec } from '../../src/firewall/validate.js';

describe('checkSeconds', () => {
  it('takes whole seconds from 0 (until flushed) to a year', () => {
    for (const s of [0, 1, 300, 31_536_000]) expect(() => checkSeconds(s)).not.toThrow();
  });

  it('refuses negative, fractional, too long and non-finite durations as usage errors', () => {
    for (const s of [-1, 1.5, 31_536_001, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => checkSeconds(s)).toThrow(
        expect.objectContaining({
          code: 'firewall.badSeconds',
          exitCode: ExitCode.usage,
          message: `invalid duration ${String(s)} s`,
        }),
      );
  });
});

describe('checkPorts', () => {
  it('takes ports 1-65535 over tcp or udp', () => {
    expect(() =>
      checkPorts([
        { port: 1, protocol: 'tcp' },
        { port: 65535, protocol: 'udp' },
      ]),
    ).not.toThrow();
    expect(() => checkPorts([])).not.toThrow();
  });

  it('names the first bad port', () => {
    const bad = [
      { port: 22, protocol: 'tcp' },
      { port: 0, protocol: 'tcp' },
    ] as const;
    expect(() => checkPorts(bad)).toThrow(
      expect.objectContaining({ code: 'firewall.badPort', message: 'invalid port 0/tcp' }),
    );
    expect(() => checkPorts([{ port: 65536, protocol: 'tcp' }])).toThrow('invalid port 65536/tcp');
    expect(() => checkPorts([{ port: 2.5, protocol: 'udp' }])).toThrow('invalid port 2.5/udp');
    expect(() => checkPorts([{ port: 22, protocol: 'sctp' as 'tcp' }])).toThrow(
      'invalid port 22/sctp',
    );
  });
});

describe('parsePortSpec (Open_Ports and --port)', () => {
  it('reads PORT, PORT/PROTO and PORT:PROTO, tcp by default, any case, blanks around', () => {
    expect(parsePortSpec('22')).toEqual({ port: 22, protocol: 'tcp' });
    expect(parsePortSpec('53/udp')).toEqual({ port: 53, protocol: 'udp' });
    expect(parsePortSpec('53:UDP')).toEqual({ port: 53, protocol: 'udp' });
    expect(parsePortSpec(' 22 / tcp ')).toEqual({ port: 22, protocol: 'tcp' });
    expect(parsePortSpec('65535')).toEqual({ port: 65535, protocol: 'tcp' });
  });

  it('gives undefined for anything else', () => {
    for (const text of ['', '0', '65536', '123456', 'ssh', '22/sctp', '22/', '-22', '22 tcp'])
      expect(parsePortSpec(text)).toBeUndefined();
  });
});
