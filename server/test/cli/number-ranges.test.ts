/**
 * Issue 9 item 8 (server): every number from knock-server's command line or knockd.conf
 * is range-checked, with a message naming the flag or file:line; and a time too long
 * for setTimeout (Seq_Timeout of years) never becomes a 1 ms timer.
 */
import { CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KnockError, parseConfig } from '@knock/shared';
import { createProgram } from '../../src/cli/program.js';
import { MAX_TIMER_MS, systemClock } from '../../src/daemon/deps.js';
import { fwCommand } from '../../src/cli/fw.js';

async function run(args: string[]) {
  const out: string[] = [];
  const push = (t: string) => void out.push(t);
  const program = createProgram({
    version: '0',
    stdout: push,
    stderr: push,
    runServer: () => Promise.resolve(),
    extraCommands: [fwCommand({ stdout: push, stderr: push, readFile: () => Promise.resolve('') })],
  });
  program.hook('preAction', (_p, leaf) => {
    if (leaf !== program) throw new Error(`ran: ${args.join(' ')}`);
  });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { code: 0, out: out.join('') };
  } catch (error) {
    if (error instanceof CommanderError || error instanceof KnockError)
      return { code: error.exitCode, out: out.join('') };
    return { code: -1, out: (error as Error).message };
  }
}

const BAD_WHOLE = ['0', '-1', '1.5', '1e3', 'NaN', 'Infinity', '99999999999999999999', ''];

const CASES: [string[], string, string[]][] = [
  [[], '--max-attempts', [...BAD_WHOLE, '100000001']],
  [[], '--capture-buffer', [...BAD_WHOLE, '1', '257']],
  [['fw', 'accept', '192.0.2.7'], '--for', ['-1', '1.5', '31536001', '99999999999', 'soon', '']],
  [['fw', 'drop', '192.0.2.7'], '--for', ['-1', '31536001']],
  [['fw', 'setup'], '--port', ['0/tcp', '65536/tcp', '22.5/tcp', '-22', '22/sctp', '']],
  [['fw', 'setup'], '--chain-prefix', ['', 'x'.repeat(21), '1abc', 'a b']],
  [['ots', 'generate', 'f.ots', '--length', '3'], '--count', [...BAD_WHOLE, '1000001']],
  [['ots', 'generate', 'f.ots', '--count', '3'], '--length', [...BAD_WHOLE, '33']],
  [
    ['ots', 'generate', 'f.ots', '--count', '3', '--length', '3'],
    '--udp-ratio',
    ['-0.1', '1.1', 'NaN', 'Infinity', '', 'half'],
  ],
  [
    ['ots', 'generate', 'f.ots', '--count', '3', '--length', '3'],
    '--min-port',
    ['0', '65536', '1.5'],
  ],
  [
    ['ots', 'generate', 'f.ots', '--count', '3', '--length', '3'],
    '--max-port',
    ['0', '70000', '-1'],
  ],
];

describe('numbers on the command line', () => {
  it.each(CASES.flatMap(([path, flag, values]) => values.map((v) => [path, flag, v] as const)))(
    '%j %s %j: exit 2, naming the flag',
    async (path, flag, value) => {
      const r = await run([...path, `${flag}=${value}`]);
      expect(r.code, r.out).toBe(2);
      expect(r.out).toContain(flag);
    },
  );
});

describe('numbers in knockd.conf', () => {
  const door = (line: string) => `[d]\n  Sequence = 1228\n  Command = true\n  ${line}\n`;
  it.each([
    door('Seq_Timeout = 2147483648'),
    door('Timeout = -1'),
    door('Cmd_Timeout = 1.5'),
    door('Open_Timeout = 31536001'),
    door('Ban = 31536001'),
    door('Open_Ports = 0/tcp'),
    door('Open_Ports = 65536/udp'),
    '[d]\n  Sequence = 1228\n  Command = true\n  Sequence = 65536\n',
    '[d]\n  Sequence = 1228\n  Command = true\n  Sequence = 0\n',
    '[d]\n  Sequence = 1228\n  Command = true\n  Sequence = 1.5\n',
  ])('%j: an error at file:4', (text) => {
    const errors = parseConfig(text, 'k.conf').issues.filter((i) => i.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((i) => i.file === 'k.conf' && i.line === 4)).toBe(true);
  });
});

describe('timers longer than setTimeout can hold', () => {
  afterEach(() => vi.restoreAllMocks());

  it('Seq_Timeout of years: the timer is armed at the ceiling, not overflowed to 1 ms', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const timer = systemClock.setTimer(() => undefined, 2_147_483_647_000);
    timer.cancel();
    expect(spy.mock.calls[0]?.[1]).toBe(MAX_TIMER_MS);
    const nan = systemClock.setTimer(() => undefined, NaN);
    nan.cancel();
    expect(spy.mock.calls[1]?.[1]).toBe(0);
  });
});
