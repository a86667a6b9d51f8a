import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeError } from '@knock/shared';
import { createProgram, isPlainKnock, runCli, SUBCOMMAND_NAMES } from '@knock/client-cli';
import { fake, profile, run, tcp, type FakeSetup } from './helpers/fake-deps.js';

/** Runs `knock ARGS` through runCli, as bin/knock.ts does. */
async function runViaCli(args: string[], setup: FakeSetup) {
  const f = fake(setup);
  let code = 0;
  try {
    await runCli(['node', 'knock', ...args], f.deps);
    code = f.exitCode ?? 0;
  } catch (error) {
    const described = describeError(error);
    f.err.push(`knock: ${described.text}\n`);
    code = described.exitCode;
  }
  return { code, stdout: f.out.join(''), stderr: f.err.join(''), f };
}

const observed = (r: Awaited<ReturnType<typeof runViaCli>>) => ({
  code: r.code,
  stdout: r.stdout,
  stderr: r.stderr,
  sends: r.f.sends.map(({ addresses, knocks, delayMs }) => ({ addresses, knocks, delayMs })),
  resolves: r.f.resolves,
  loads: r.f.loads,
  verifies: r.f.verifies.map(({ addresses, port, timeoutMs }) => ({ addresses, port, timeoutMs })),
  otsTaken: r.f.otsTaken,
});

const setup: FakeSetup = {
  profiles: [
    profile('ssh.test', { sequence: [tcp(1228), tcp(1227)], port: 22 }),
    profile('ots.test', { oneTimeSequences: '/home/u/ots' }),
  ],
  addresses: { 'v6.test': ['2001:db8::2', '192.0.2.2'] },
};

describe('runCli: a plain knock skips commander and does what commander would', () => {
  it('knows every first word commander reads as a subcommand', () => {
    const program = createProgram(fake().deps);
    const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    expect(new Set(names)).toEqual(SUBCOMMAND_NAMES);
  });

  it.each([
    [['192.0.2.2', '1228', '1227'], true],
    [['ssh.test'], true],
    [['h', '7000:udp', 'ssh'], true],
    [['listing', '1'], true],
    [[], false],
    [['list'], false],
    [['help', 'x'], true],
    [['ssh', 'h'], false],
    [['-v', 'h', '1'], false],
    [['h', '1', '-u'], false],
    [['h', '--', '1'], false],
    [['h', '-'], false],
  ])('isPlainKnock(%j) is %s', (args, plain) => {
    expect(isPlainKnock(args)).toBe(plain);
  });

  it('the same output, exit code and knocks as through commander, for any argument list', async () => {
    const word = fc.constantFrom(
      'ssh.test',
      'ots.test',
      'v6.test',
      '192.0.2.2',
      '2001:db8::2',
      'nowhere.test',
      '1228',
      '1227:udp',
      '7000:UDP',
      'ssh',
      'domain:udp',
      'nosuchservice',
      '0',
      '70000',
      '1228:',
      '1228:icmp',
      '',
      'list',
      'help',
      'ots',
      'proxy',
      'ui',
      '-v',
      '-u',
      '-4',
      '-6',
      '-d',
      '100',
      '--verify',
      '--verify=22',
      '--timeout',
      '-',
      '--',
      '-x',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(word, { maxLength: 5 }), async (args) => {
        const direct = observed(await runViaCli(args, setup));
        const viaCommander = observed(await run(args, setup));
        expect({ args, ...direct }).toEqual({ args, ...viaCommander });
      }),
      { numRuns: 300 },
    );
  });
});
