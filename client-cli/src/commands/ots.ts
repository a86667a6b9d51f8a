import { Command } from 'commander';
import { ExitCode, KnockError, MAX_SEQUENCE_LENGTH } from '@knock/shared';
import type { CliDeps, SubcommandFactory } from '../deps.js';

const integer = (flag: string, min: number, max: number) => (text: string) => {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max)
    throw new KnockError(
      'knock.usage.ots',
      `${flag} wants a whole number from ${min} to ${max}, got "${text}"`,
      {
        exitCode: ExitCode.usage,
      },
    );
  return Number(text);
};

const ratio = (text: string) => {
  if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(text))
    throw new KnockError(
      'knock.usage.ots',
      `--udp-ratio wants a number from 0 to 1, got "${text}"`,
      {
        exitCode: ExitCode.usage,
        hint: 'e.g. --udp-ratio 0.25 makes about a quarter of the knocks UDP',
      },
    );
  return Number(text);
};

/** `knock ots generate`: the same generator and file format as `knock-server ots generate`. */
export function otsCommand(deps: CliDeps, sub: SubcommandFactory) {
  const ots = sub('ots').description('one-time-sequence files (knockd One_Time_Sequences format)');
  const generate = new Command('generate')
    .copyInheritedSettings(ots)
    .description(
      'write a new one-time-sequence file (the same generator as knock-server ots generate)',
    )
    .argument('<file>', 'the file to write (refused if it exists, unless --force)')
    .requiredOption('--count <n>', 'how many sequences', integer('--count', 1, 1_000_000))
    .requiredOption(
      '--length <l>',
      'knocks per sequence',
      integer('--length', 1, MAX_SEQUENCE_LENGTH),
    )
    .option('--udp-ratio <r>', 'share of UDP knocks, 0 to 1', ratio, 0)
    .option('--min-port <port>', 'lowest port (default 1024)', integer('--min-port', 1, 65535))
    .option('--max-port <port>', 'highest port (default 65535)', integer('--max-port', 1, 65535))
    .option('--force', 'overwrite FILE if it exists')
    .action(
      async (
        file: string,
        options: {
          count: number;
          length: number;
          udpRatio: number;
          minPort?: number;
          maxPort?: number;
          force?: boolean;
        },
      ) => {
        await deps.generateOtsFile(file, {
          count: options.count,
          length: options.length,
          udpRatio: options.udpRatio,
          ...(options.minPort !== undefined ? { minPort: options.minPort } : {}),
          ...(options.maxPort !== undefined ? { maxPort: options.maxPort } : {}),
          ...(options.force ? { force: true } : {}),
        });
        deps.stdout.write(
          `wrote ${options.count} one-time sequences of ${options.length} knocks to ${file}\n`,
        );
      },
    );
  ots.addCommand(generate);
  return ots;
}
