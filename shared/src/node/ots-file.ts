import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { formatIssue, KnockError, type Issue } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { decodeOts, markUsedBytes, parseOtsFile } from '../ots.js';
import { sameSequence, type Knock } from '../sequence.js';
import { writeFileAtomic, type AtomicFs } from './atomic-file.js';
import { withFileLock, type LockOptions } from './lock.js';

export interface OtsFileOptions extends LockOptions {
  /** Injected file operations for the atomic write (tests simulate crashes with it). */
  fs?: Partial<AtomicFs>;
  /**
   * The profile file that names this one-time-sequence file: a relative path is read from
   * that file's folder (not from the working directory).
   */
  relativeTo?: string;
  /** The home folder for `~/` (default: the user's). */
  home?: string;
}

/** `~/x` → `$HOME/x` (profiles write one-time files that way). */
export function expandHome(path: string, home: string = homedir()): string {
  return path === '~' ? home : path.startsWith('~/') ? `${home}${path.slice(1)}` : path;
}

/**
 * Where a one-time-sequence file named `path` (as written in a profile) is: `~/` is the
 * home folder, and a relative path is relative to the folder of `relativeTo` (the
 * profile file), or to the working directory when there is none.
 */
export function resolveOtsPath(
  path: string,
  options: { relativeTo?: string; home?: string } = {},
): string {
  const expanded = expandHome(path, options.home);
  if (isAbsolute(expanded) || options.relativeTo === undefined) return expanded;
  return resolve(dirname(options.relativeTo), expanded);
}

/** The file to open and the name messages use (the path as written). */
interface OtsLocation {
  file: string;
  shown: string;
}

function locate(path: string, options: OtsFileOptions): OtsLocation {
  const file = resolveOtsPath(path, {
    ...(options.relativeTo !== undefined ? { relativeTo: options.relativeTo } : {}),
    ...(options.home !== undefined ? { home: options.home } : {}),
  });
  return { file, shown: path };
}

/** Where a relative name was looked for, for hints. */
const lookedAt = ({ file, shown }: OtsLocation): string =>
  file === shown ? '' : ` (looked at ${file})`;

async function readOts(at: OtsLocation): Promise<Uint8Array> {
  try {
    return await readFile(at.file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KnockError(
      'ots.unreadable',
      code === 'ENOENT'
        ? `one-time-sequence file ${at.shown} does not exist${lookedAt(at)}`
        : `cannot read the one-time-sequence file ${at.shown}${lookedAt(at)}: ${(error as Error).message}`,
      {
        exitCode: ExitCode.otsFile,
        hint:
          code === 'ENOENT'
            ? 'copy the file the server uses, or create one: knock ots generate --count 50 --length 3 FILE' +
              (at.file === at.shown
                ? ''
                : "; a relative path is read from the profile file's folder")
            : 'check its permissions',
        cause: error,
      },
    );
  }
}

const exhausted = (at: OtsLocation): KnockError =>
  new KnockError(
    'ots.exhausted',
    `no unused sequence left in the one-time-sequence file ${at.shown}${lookedAt(at)}`,
    {
      exitCode: ExitCode.otsExhausted,
      hint: 'generate a new file (knock ots generate) and give it to both the server and the client',
    },
  );

const FS_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'it is a folder',
};

/**
 * Why a file operation failed, in words, without the temporary file's name that Node's
 * message holds (`open '/dir/.x.ots.123.ab12.tmp'` means nothing to the user).
 */
export function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && FS_REASONS[code] !== undefined) return FS_REASONS[code];
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*,?\s*\w+ '[^']*\.tmp'/g, '').trim() || (code ?? 'unknown error');
}

/** How many problems an error message lists before "and N more". */
const SHOWN_PROBLEMS = 10;

/**
 * A file with a line that is not a sequence is refused as a whole: which line is current
 * would be a guess (knockd skips some bad lines and reads others as port 0), and a guess
 * that differs from the server's knocks the wrong sequence and burns a line.
 */
function invalid(at: OtsLocation, errors: readonly Issue[]): KnockError {
  const lines = errors.slice(0, SHOWN_PROBLEMS).map((issue) => {
    const shown: Issue = { ...issue };
    delete shown.hint;
    return formatIssue(shown);
  });
  if (errors.length > SHOWN_PROBLEMS)
    lines.push(`(and ${errors.length - SHOWN_PROBLEMS} more lines with problems)`);
  return new KnockError(
    'ots.invalid',
    `the one-time-sequence file ${at.shown}${lookedAt(at)} has lines that are not sequences; nothing was knocked:\n${lines.join('\n')}`,
    {
      exitCode: ExitCode.otsFile,
      hint:
        errors[0]?.hint ??
        'fix the lines (PORT[:tcp|udp],...), or comment them out with # (the server then skips them too)',
    },
  );
}

/**
 * The client's side: under the file lock, read the current sequence, call `use` with it
 * (the knock is sent there), and only then mark it used (one byte changes) and write the
 * file atomically. If `use` throws, nothing is consumed and the error propagates. A file
 * with a malformed line is refused before anything is sent (ExitCode.otsFile).
 */
export async function takeOneTimeSequence(
  path: string,
  use: (knocks: Knock[]) => Promise<void>,
  options: OtsFileOptions = {},
): Promise<{ used: Knock[]; remaining: number }> {
  const at = locate(path, options);
  return withFileLock(
    at.file,
    async () => {
      const bytes = await readOts(at);
      const { entries, issues } = parseOtsFile(decodeOts(bytes), at.shown);
      const errors = issues.filter((i) => i.severity === 'error');
      if (errors.length > 0) throw invalid(at, errors);
      const current = entries[0];
      if (!current) throw exhausted(at);
      await use(current.knocks);
      try {
        await writeFileAtomic(at.file, markUsedBytes(bytes, current.line), optionsFs(options));
      } catch (error) {
        throw new KnockError(
          'ots.write',
          `knocked, but could not mark the sequence of line ${current.line} used in ${at.shown}${lookedAt(at)}: ${fsReason(error)}`,
          {
            exitCode: ExitCode.otsFile,
            hint: `the server has used it: comment line ${current.line} out with # before the next knock, and make the file's folder writable`,
            cause: error,
          },
        );
      }
      return { used: current.knocks, remaining: entries.length - 1 };
    },
    lockOptions(options),
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
  const at = locate(path, options);
  return withFileLock(
    at.file,
    async () => {
      const bytes = await readOts(at);
      const { entries } = parseOtsFile(decodeOts(bytes), at.shown);
      const match = entries.find((e) => sameSequence(e.knocks, knocks));
      if (!match) return { next: entries[0]?.knocks, remaining: entries.length };
      await writeFileAtomic(at.file, markUsedBytes(bytes, match.line), optionsFs(options));
      const left = entries.filter((e) => e !== match);
      return { next: left[0]?.knocks, remaining: left.length };
    },
    lockOptions(options),
  );
}

/** Reads a one-time-sequence file: its current sequence, how many are left, its problems. */
export async function readOneTimeSequences(
  path: string,
  options: Pick<OtsFileOptions, 'relativeTo' | 'home'> = {},
): Promise<{ current: Knock[] | undefined; remaining: number; issues: Issue[] }> {
  const at = locate(path, options);
  const { entries, issues } = parseOtsFile(decodeOts(await readOts(at)), at.shown);
  return { current: entries[0]?.knocks, remaining: entries.length, issues };
}

const optionsFs = (options: OtsFileOptions) => (options.fs ? { fs: options.fs } : {});

const lockOptions = (options: OtsFileOptions): LockOptions => {
  const { timeoutMs, retryMs, onWait, waitNoticeMs } = options;
  return {
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(retryMs !== undefined ? { retryMs } : {}),
    ...(onWait !== undefined ? { onWait } : {}),
    ...(waitNoticeMs !== undefined ? { waitNoticeMs } : {}),
  };
};
