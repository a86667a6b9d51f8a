/**
 * Secret files of rotating doors and profiles: one base32 secret, `#` comment lines
 * allowed, readable by its owner only (like ssh refuses a private key others can read).
 */
import { readFile, stat } from 'node:fs/promises';
import type { KnockdConfig } from '../config/types.js';
import type { Issue } from '../errors.js';
import { formatSecret, parseSecret } from '../rotating.js';

export interface SecretRead {
  secret?: Uint8Array;
  /** What is wrong, in words that complete "the secret file PATH …". */
  problem?: string;
  hint?: string;
}

/** The text of a secret file: a comment saying what it is for, then the secret. */
export const secretFileText = (secret: Uint8Array, comment: string): string =>
  `# ${comment.replace(/\n/g, ' ')}\n${formatSecret(secret)}\n`;

/** Reads and checks one secret file. `strict`: refuse a file group or others can read. */
export async function readSecretFile(
  path: string,
  options: { strict?: boolean } = {},
): Promise<SecretRead> {
  let text: string;
  try {
    const st = await stat(path);
    if (!st.isFile()) return { problem: 'is not a regular file', hint: 'point to the secret file' };
    if ((options.strict ?? true) && (st.mode & 0o077) !== 0)
      return {
        problem: `is readable or writable by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): anyone who reads it can knock`,
        hint: `chmod 600 ${path} (and consider it leaked: make a new secret if others may have read it)`,
      };
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      problem:
        code === 'ENOENT'
          ? 'does not exist'
          : code === 'EACCES'
            ? 'cannot be read (permission denied)'
            : `cannot be read: ${(error as Error).message}`,
      hint:
        code === 'ENOENT'
          ? 'create it with knock-server secret new DOOR, or fix the path'
          : 'check its owner and permissions',
    };
  }
  const body = text
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('');
  const parsed = parseSecret(body);
  if (!parsed.secret)
    return {
      problem: `holds no valid secret: ${parsed.problem ?? ''}`,
      hint: 'make a new one with knock-server secret new DOOR',
    };
  return { secret: parsed.secret };
}

/**
 * Reads the secret files of every rotating door of a parsed config into the config
 * (`secret`, `previousSecret`); each problem is an error naming the door and the line
 * of its Sequence_Secret_File / Sequence_Secret_Previous_File.
 */
export async function loadRotatingSecrets(config: KnockdConfig, file: string): Promise<Issue[]> {
  const issues: Issue[] = [];
  for (const door of config.doors) {
    const rotating = door.rotating;
    if (!rotating) continue;
    for (const which of ['Sequence_Secret_File', 'Sequence_Secret_Previous_File'] as const) {
      const path = which === 'Sequence_Secret_File' ? rotating.secretFile : rotating.previousFile;
      if (path === undefined) continue;
      const read = await readSecretFile(path);
      if (read.secret) {
        if (which === 'Sequence_Secret_File') rotating.secret = read.secret;
        else rotating.previousSecret = read.secret;
        continue;
      }
      const issue: Issue = {
        severity: 'error',
        code: 'config.rotating.secretFile',
        message: `door '${door.name}': ${which}: the secret file ${path} ${read.problem ?? ''}`,
        file,
        line: rotating.lines[which] ?? door.line,
        column: 0,
      };
      if (read.hint !== undefined) issue.hint = read.hint;
      issues.push(issue);
    }
  }
  return issues;
}
