import { describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import { reporter } from '../src/report.js';

describe('reporter', () => {
  it('prints knockd-style knock lines and verification lines to verbose, warnings to warn', () => {
    const verbose: string[] = [];
    const warn: string[] = [];
    const on = reporter({
      verbose: { write: (t) => verbose.push(t) },
      warn: { write: (t) => warn.push(t) },
    });
    on({
      type: 'knock',
      address: '192.0.2.2',
      knock: { port: 1228, protocol: 'tcp' },
      index: 0,
      count: 1,
    });
    on({
      type: 'knock',
      address: '2001:db8::2',
      knock: { port: 7000, protocol: 'udp' },
      index: 0,
      count: 1,
    });
    on({ type: 'verifying', addresses: ['192.0.2.2'], port: 22, timeoutMs: 5000 });
    on({ type: 'open', address: '192.0.2.2', port: 22, elapsedMs: 1234 });
    on({ type: 'closed', addresses: ['192.0.2.2'], port: 22, state: 'timeout', timeoutMs: 500 });
    on({
      type: 'unreachable',
      address: '2001:db8::2',
      error: new KnockError('x', 'no route', { exitCode: ExitCode.network }),
    });
    expect(verbose.join('')).toBe(
      [
        'hitting tcp 192.0.2.2:1228',
        'hitting udp [2001:db8::2]:7000',
        'waiting up to 5 s for port 22 on 192.0.2.2',
        'port 22 is open on 192.0.2.2 (after 1.2 s)',
        'port 22 is still closed (no answer) after 0.5 s',
        '',
      ].join('\n'),
    );
    expect(warn).toEqual(['knock: warning: skipped 2001:db8::2: no route\n']);
  });

  it('prints nothing when not verbose', () => {
    const on = reporter({ verbose: undefined, warn: undefined });
    expect(() =>
      on({ type: 'knock', address: 'a', knock: { port: 1, protocol: 'tcp' }, index: 0, count: 1 }),
    ).not.toThrow();
  });
});
