import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { KnockError, type Issue } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { markUsed, parseOtsFile } from '../ots.js';
import { sameSequence, type Knock } from '../sequence.js';
import { writeFileAtomic, type AtomicFs } from './atomic-file.js';
import { withFileLock, type LockOptions } from './lock.js';

export interface OtsFileOptions extends LockOptions {
  /** Injected file operations for the atomic write (tests simulate crashes with it). */
  fs?: Partial<AtomicFs>;
}

/** `~/x` → `$HOME/x` (profiles write one-time files that way). */
export function expandHome(path: string, home: string = homedir()): string {
  return path === '~' ? home : path.startsWith('~/') ? `${home}${path.slice(1)}` : path;
}

async function readOts(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KnockError(
      'ots.unreadable',
      code === 'ENOENT'
        ? `one-time-sequence file ${path} does not exist`
        : `cannot read the one-time-sequence file ${path}: ${(error as Error).message}`,
      {
        exitCode: ExitCode.otsFile,
        hint:
          code === 'ENOENT'
            ? 'copy the file the server uses, or create one: knock-server ots generate --count 50 --length 3 FILE'
            : 'check its permissions',
        cause: error,
      },
    );
  }
}

const exhausted = (path: string): KnockError =>
  new KnockError('ots.exhausted', `no unused sequence left in the one-time-sequence file ${path}`, {
    exitCode: ExitCode.otsExhausted,
    hint: 'generate a new file (knock-server ots generate) and give it to both the server and the client',
  });

/**
 * The client's side: under the file lock, read the current sequence, call `use` with it
 * (the knock is sent there), and only then mark it used and write the file atomically.
 * If `use` throws, nothing is consumed and the error propagates.
 */
export async function takeOneTimeSequence(
  path: string,
  use: (knocks: Knock[]) => Promise<void>,
  options: OtsFileOptions = {},
): Promise<{ used: Knock[]; remaining: number }> {
  const file = expandHome(path);
  return withFileLock(
    file,
    async () => {
      const text = await readOts(file);
      const { entries } = parseOtsFile(text, file);
      const current = entries[0];
      if (!current) throw exhausted(file);
      await use(current.knocks);
      await writeFileAtomic(file, markUsed(text, current.line), optionsFs(options));
      return { used: current.knocks, remaining: entries.length - 1 };
    },
    options,
  );
}

/**
 * The server's side, after a door with one-time sequences opened: mark the line holding
 * `knocks` used (the first such unused line, as knockd does) and return the new current
 * sequence. If no unused line holds `knocks` (the file was replaced meanwhile) nothing is
 * written and the file's current sequence is returned.
 */
export async function consumeOneTimeSequence(
  path: string,
  knocks: Knock[],
  options: OtsFileOptions = {},
): Promise<{ next: Knock[] | undefined; remaining: number }> {
  const file = expandHome(path);
  return withFileLock(
    file,
    async () => {
      const text = await readOts(file);
      const { entries } = parseOtsFile(text, file);
      const match = entries.find((e) => sameSequence(e.knocks, knocks));
      if (!match) return { next: entries[0]?.knocks, remaining: entries.length };
      await writeFileAtomic(file, markUsed(text, match.line), optionsFs(options));
      const left = entries.filter((e) => e !== match);
      return { next: left[0]?.knocks, remaining: left.length };
    },
    options,
  );
}

/** Reads a one-time-sequence file: its current sequence, how many are left, its problems. */
export async function readOneTimeSequences(
  path: string,
): Promise<{ current: Knock[] | undefined; remaining: number; issues: Issue[] }> {
  const file = expandHome(path);
  const { entries, issues } = parseOtsFile(await readOts(file), file);
  return { current: entries[0]?.knocks, remaining: entries.length, issues };
}

const optionsFs = (options: OtsFileOptions) => (options.fs ? { fs: options.fs } : {});
