import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { formatIssue, KnockError, type Issue } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { serializeProfiles, type Profile } from '../profile.js';
import { writeFileAtomic } from './atomic-file.js';
import { expandHome } from './ots-file.js';

export { findProfile } from '../profile.js';

const home = (env: NodeJS.ProcessEnv): string => env.HOME || homedir();

/** The profile file: $KNOCK_CONFIG, else $XDG_CONFIG_HOME/knock/config.toml, else ~/.config/knock/config.toml. */
export function profilesPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KNOCK_CONFIG) return env.KNOCK_CONFIG;
  // The XDG spec ignores a relative XDG_CONFIG_HOME.
  if (env.XDG_CONFIG_HOME?.startsWith('/'))
    return join(env.XDG_CONFIG_HOME, 'knock', 'config.toml');
  return join(home(env), '.config', 'knock', 'config.toml');
}

export interface LoadedProfiles {
  path: string;
  profiles: Profile[];
  /** False when the file does not exist (then there are no profiles, which is fine). */
  exists: boolean;
  /** Problems that did not stop loading. */
  warnings: Issue[];
}

/**
 * Reads the profile file. A missing file means no profiles; an unreadable or invalid one
 * is a KnockError (ExitCode.config) whose message names file:line and whose hint says
 * what to write. `~` in one_time_sequences is expanded.
 */
export async function loadProfiles(
  options: { path?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<LoadedProfiles> {
  const env = options.env ?? process.env;
  const path = options.path ?? profilesPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { path, profiles: [], exists: false, warnings: [] };
    }
    throw new KnockError(
      'profile.unreadable',
      `cannot read the profile file ${path}: ${(error as Error).message}`,
      {
        exitCode: ExitCode.config,
        hint: 'check its permissions, or set KNOCK_CONFIG',
        cause: error,
      },
    );
  }
  // Loaded on demand: smol-toml and valibot cost ~25 ms of start-up that a knock with ports never needs.
  const { parseProfiles } = await import('./profiles-parse.js');
  const { profiles, issues } = parseProfiles(text, path);
  const errors = issues.filter((i) => i.severity === 'error');
  const [first] = errors;
  if (first) {
    const more =
      errors.length > 1
        ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})`
        : '';
    const problem: Issue = { ...first };
    delete problem.hint;
    throw new KnockError('profile.invalid', `${formatIssue(problem)}${more}`, {
      exitCode: ExitCode.config,
      ...(first.hint !== undefined ? { hint: first.hint } : {}),
    });
  }
  const dir = home(env);
  return {
    path,
    exists: true,
    warnings: issues,
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

/**
 * Writes the profiles atomically (the desktop app and the TUI edit the same file the CLI
 * reads), creating the directory if needed. Paths under $HOME are written back as `~/…`.
 */
export async function saveProfiles(
  path: string,
  profiles: readonly Profile[],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  const dir = home(options.env ?? process.env);
  const text = serializeProfiles(
    profiles.map((p) =>
      p.oneTimeSequences?.startsWith(`${dir}/`)
        ? { ...p, oneTimeSequences: `~${p.oneTimeSequences.slice(dir.length)}` }
        : p,
    ),
  );
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, text);
}
