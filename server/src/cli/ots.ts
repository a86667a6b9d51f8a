/**
 * `knock-server ots generate --count N --length L [--udp-ratio R] [--force] FILE`:
 * a one-time-sequence file both the daemon (One_Time_Sequences) and the client read.
 * Random ports come from crypto.randomInt. The file is written whole to a temp file
 * and then linked into place, so it never exists half-written, and an existing file
 * (maybe holding sequences a client still counts on) is never replaced without --force.
 */
import { randomInt as cryptoRandomInt } from 'node:crypto';
import { linkSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { ExitCode, KnockError, errorText, generateOts } from '@knock/shared';
import { namingTarget } from '@knock/shared/node';
import { wholeNumber } from './option-values.js';

export interface OtsDeps {
  stdout: (text: string) => void;
  /** A uniform integer in [0, maxExclusive) (crypto.randomInt); injected so tests are deterministic. */
  randomInt?: (maxExclusive: number) => number;
}

const ratio = (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError(`--udp-ratio takes a number from 0 to 1 (got "${value}")`);
  return n;
};

/** Writes `text` to `path` atomically; refuses to replace an existing file unless `force`. */
export function writeNewFile(path: string, text: string, force: boolean): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new KnockError(
      'ots.write',
      `cannot write ${path}: ${errorText(namingTarget(error, temp, path))}`,
      { exitCode: ExitCode.otsFile, hint: 'check that the directory exists and is writable' },
    );
  }
  try {
    if (force) renameSync(temp, path);
    else linkSync(temp, path); // fails with EEXIST, atomically, if the file is there
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new KnockError('ots.exists', `${path} already exists: not overwritten`, {
        exitCode: ExitCode.otsFile,
        hint: 'add --force to replace it (sequences still in it will stop working)',
      });
    throw new KnockError(
      'ots.write',
      `cannot write ${path}: ${errorText(namingTarget(error, temp, path))}`,
      { exitCode: ExitCode.otsFile },
    );
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // renamed away
    }
  }
}

export function otsCommand(deps: OtsDeps): Command {
  const examples = `
Examples:
  knock-server ots generate --count 50 --length 3 /etc/knockd/ssh.ots
  knock-server ots generate --count 20 --length 4 --udp-ratio 0.5 --min-port 2000 ssh.ots
Then in a door:  One_Time_Sequences = /etc/knockd/ssh.ots
and on the client (profile):  one_time_sequences = "~/.config/knock/ssh.ots" (a copy)`;
  const ots = new Command('ots')
    .description('one-time-sequence files (One_Time_Sequences)')
    .addHelpText('after', examples);
  ots
    .command('generate')
    .description('write a new one-time-sequence file for a door and its clients')
    .argument('<file>', 'the file to write')
    .requiredOption('--count <n>', 'how many sequences', wholeNumber('--count', 1, 1_000_000))
    .requiredOption('--length <l>', 'knocks per sequence', wholeNumber('--length', 1, 32))
    .option('--udp-ratio <r>', 'share of UDP knocks, 0 to 1', ratio, 0)
    .option('--min-port <port>', 'lowest port', wholeNumber('--min-port', 1, 65535), 1024)
    .option('--max-port <port>', 'highest port', wholeNumber('--max-port', 1, 65535), 65535)
    .option('--force', 'replace an existing file', false)
    .allowExcessArguments(false)
    .addHelpText('after', examples)
    .action(
      (
        file: string,
        opts: {
          count: number;
          length: number;
          udpRatio: number;
          minPort: number;
          maxPort: number;
          force: boolean;
        },
      ) => {
        const text = generateOts(
          {
            count: opts.count,
            length: opts.length,
            udpRatio: opts.udpRatio,
            minPort: opts.minPort,
            maxPort: opts.maxPort,
          },
          deps.randomInt ?? ((max) => cryptoRandomInt(max)),
        );
        writeNewFile(file, text, opts.force);
        deps.stdout(
          `${file}: ${opts.count} sequence${opts.count === 1 ? '' : 's'} of ${opts.length} knock${
            opts.length === 1 ? '' : 's'
          }\n`,
        );
      },
    );
  return ots;
}
