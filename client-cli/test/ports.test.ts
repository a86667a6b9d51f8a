import { describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import { parseServices } from '../src/services.js';
import {
  parseDelay,
  parsePort,
  parsePortSpec,
  parseSeconds,
  resolvePortSpecs,
} from '../src/ports.js';
import { SERVICES } from './helpers/fake-deps.js';

const usageError = (fn: () => unknown): KnockError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(KnockError);
    expect((error as KnockError).exitCode).toBe(ExitCode.usage);
    return error as KnockError;
  }
  throw new Error('expected a usage error');
};

describe('parsePortSpec', () => {
  it('reads PORT, PORT:tcp, PORT:udp in any case', () => {
    expect(parsePortSpec('1228', false)).toEqual({ text: '1228', port: 1228, protocol: 'tcp' });
    expect(parsePortSpec('1228:udp', false).protocol).toBe('udp');
    expect(parsePortSpec('1228:UDP', false).protocol).toBe('udp');
    expect(parsePortSpec('1228:TCP', false).protocol).toBe('tcp');
  });

  it('-u makes every knock UDP, even :tcp (as knockd)', () => {
    expect(parsePortSpec('1228:tcp', true).protocol).toBe('udp');
  });

  it('keeps a service name for later lookup', () => {
    expect(parsePortSpec('ssh:udp', false)).toEqual({
      text: 'ssh:udp',
      port: 'ssh',
      protocol: 'udp',
    });
  });

  it.each(['0', '65536', '70000', '1:foo', '1:', ':udp', '1.5', '', '-1'])('refuses %j', (text) => {
    usageError(() => parsePortSpec(text, false));
  });
});

describe('resolvePortSpecs', () => {
  const table = parseServices(SERVICES);
  it('looks names up for the knock protocol, falling back to the other one', () => {
    const specs = ['ssh', 'domain:udp', 'openvpn', '99'].map((t) => parsePortSpec(t, false));
    expect(resolvePortSpecs(specs, table, '/etc/services')).toEqual([
      { port: 22, protocol: 'tcp' },
      { port: 53, protocol: 'udp' },
      { port: 1194, protocol: 'tcp' },
      { port: 99, protocol: 'tcp' },
    ]);
  });

  it('an unknown name, or no services file, names the file', () => {
    const spec = [parsePortSpec('nosuch', false)];
    expect(usageError(() => resolvePortSpecs(spec, table, '/etc/services')).message).toBe(
      'unknown service "nosuch" (not in /etc/services)',
    );
    usageError(() => resolvePortSpecs([parsePortSpec('ssh', false)], undefined, '/etc/services'));
  });
});

describe('numbers', () => {
  it('parseDelay', () => {
    expect(parseDelay('0')).toBe(0);
    expect(parseDelay(' 250 ')).toBe(250);
    expect(usageError(() => parseDelay('-1')).message).toBe(
      '-d: the delay cannot be negative (got "-1")',
    );
    usageError(() => parseDelay('1.5'));
  });
  it('parseSeconds', () => {
    expect(parseSeconds('5', '--timeout')).toBe(5000);
    expect(parseSeconds('0.25', '--timeout')).toBe(250);
    usageError(() => parseSeconds('0', '--timeout'));
    usageError(() => parseSeconds('1e3', '--timeout'));
  });
  it('parsePort', () => {
    expect(parsePort('22', 'x')).toBe(22);
    usageError(() => parsePort('65536', 'x'));
    usageError(() => parsePort('ssh', 'x'));
  });
});
