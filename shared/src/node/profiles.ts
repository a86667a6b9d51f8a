import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { errorText, formatIssue, KnockError, type Issue } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { InvalidProfile, Profile } from '../profile.js';
import { expandHome } from './ots-file.js';
import { profilesPath } from './profile-path.js';
import type { ProfilesParse } from './profiles-parse.js';

export { findProfile } from '../profile.js';

export const profilesHomeDir = (env: NodeJS.ProcessEnv): string => env.HOME || homedir();

// The profile file by the platform's conventions ($KNOCK_CONFIG, XDG, macOS, Windows).
export {
  profilesPath,
  profilesPathFor,
  type AppDirs,
  type PlatformContext,
} from './profile-path.js';

export interface LoadedProfiles {
  path: string;
  /** The usable profiles, in file order. */
  profiles: Profile[];
  /** False when the file does not exist (then there are no profiles, which is fine). */
  exists: boolean;
  /**
   * Problems that did not stop loading: warnings, errors outside any profile, and one
   * line per unusable profile (`knock check-profiles` lists all of their problems).
   */
  warnings: Issue[];
  /** Profiles with errors: each is unusable, the others are not affected. */
  invalid: InvalidProfile[];
}

/** The loaded form of a profile file's parsed text (`~` expanded in one_time_sequences and secret_file). */
export function loadedFromParse(
  path: string,
  parsed: ProfilesParse,
  env: NodeJS.ProcessEnv = process.env,
): LoadedProfiles {
  const { profiles, issues, invalid } = parsed;
  const inProfile = new Set(invalid.flatMap((i) => i.issues));
  const errors = issues.filter((i) => i.severity === 'error');
  const [first] = errors;
  if (first && profiles.length === 0 && invalid.length === 0) {
    // Nothing in the file can be used (e.g. not TOML at all): that is an error of its own.
    const more =
      errors.length > 1
        ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''}: knock check-profiles lists them)`
        : '';
    const problem: Issue = { ...first };
    delete problem.hint;
    throw new KnockError('profile.invalid', `${formatIssue(problem)}${more}`, {
      exitCode: ExitCode.config,
      ...(first.hint !== undefined ? { hint: first.hint } : {}),
    });
  }
  const warnings: Issue[] = issues.filter((i) => !inProfile.has(i));
  for (const broken of invalid) {
    const [problem] = broken.issues;
    if (!problem) continue;
    const n = broken.issues.length;
    warnings.push({
      ...problem,
      severity: 'warning',
      code: 'profile.unusable',
      message: `the profile for ${broken.host} is skipped: ${problem.message}${n > 1 ? ` (and ${n - 1} more problem${n > 2 ? 's' : ''})` : ''}`,
      hint: 'knock check-profiles lists every problem of the file',
    });
  }
  warnings.sort((a, b) => a.line - b.line);
  const dir = profilesHomeDir(env);
  return {
    path,
    exists: true,
    warnings,
    invalid,
    profiles: profiles.map((p) => {
      const q =
        p.oneTimeSequences === undefined
          ? p
          : { ...p, oneTimeSequences: expandHome(p.oneTimeSequences, dir) };
      return q.rotating?.secretFile === undefined
        ? q
        : { ...q, rotating: { ...q.rotating, secretFile: expandHome(q.rotating.secretFile, dir) } };
    }),
  };
}

/** Reads the file's text; undefined when it does not exist. Other failures: ExitCode.config. */
export async function readProfileText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KnockError(
      'profile.unreadable',
      `cannot read the profile file ${path}: ${errorText(error)}`,
      {
        exitCode: ExitCode.config,
        hint: 'check its permissions, or set KNOCK_CONFIG',
        cause: error,
      },
    );
  }
}

/**
 * Reads the profile file. A missing file means no profiles; an unreadable one, or one of
 * which nothing can be used, is a KnockError (ExitCode.config) whose message names
 * file:line and whose hint says what to write. A profile with errors is left out (listed
 * in `invalid` and summed up in `warnings`); the others stay usable. `~` in
 * one_time_sequences and secret_file is expanded.
 */
export async function loadProfiles(
  options: { path?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<LoadedProfiles> {
  const env = options.env ?? process.env;
  const path = options.path ?? profilesPath(env);
  const text = await readProfileText(path);
  if (text === undefined) return { path, profiles: [], exists: false, warnings: [], invalid: [] };
  // Loaded on demand: the TOML parser costs start-up time that a knock with ports never needs.
  const { parseProfiles } = await import('./profiles-parse.js');
  return loadedFromParse(path, parseProfiles(text, path), env);
}

/** Every problem of a profile file, for `knock check-profiles`. */
export interface ProfileCheck {
  path: string;
  exists: boolean;
  /** Every issue (errors and warnings), each with file:line:col, by line. */
  issues: Issue[];
  /** How many profiles are usable, and how many have errors. */
  usable: number;
  invalid: number;
}

/** Reads the profile file and lists every problem in it (a missing file: exists false). */
export async function checkProfileFile(
  options: { path?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ProfileCheck> {
  const path = options.path ?? profilesPath(options.env ?? process.env);
  const text = await readProfileText(path);
  if (text === undefined) return { path, exists: false, issues: [], usable: 0, invalid: 0 };
  const { parseProfiles } = await import('./profiles-parse.js');
  const parsed = parseProfiles(text, path);
  return {
    path,
    exists: true,
    issues: parsed.issues,
    usable: parsed.profiles.length,
    invalid: parsed.invalid.length,
  };
}
