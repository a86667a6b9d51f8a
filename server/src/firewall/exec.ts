// The one place the firewall code starts programs: argv arrays through execFile, never a shell.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Exec, ExecResult } from './types.js';

export const systemExec: Exec = (file, args, opts = {}) =>
  new Promise<ExecResult>((resolve) => {
    const child = execFile(
      file,
      [...args],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error === null) return resolve({ code: 0, stdout, stderr });
        const errno = (error as NodeJS.ErrnoException).code;
        if (errno === 'ENOENT') return resolve({ code: 127, stdout, stderr: notFound(file) });
        const code = typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr: stderr || error.message });
      },
    );
    // A missing program fails before stdin opens: ignore that pipe's EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });

/** Shell-style quoting for showing an argv to a person (dry runs, errors); never executed. */
export function showArgv(file: string, args: readonly string[]): string {
  return [file, ...args]
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/** Where Debian and others install the firewall tools, whatever PATH says. */
export const SYSTEM_DIRS = [
  '/usr/sbin',
  '/sbin',
  '/usr/bin',
  '/bin',
  '/usr/local/sbin',
  '/usr/local/bin',
];

/**
 * Why `file` could not be started. A PATH without /usr/sbin (cron, some scripts) hides
 * nft and iptables although they are installed: say so, rather than "not installed".
 */
export function notFound(file: string): string {
  for (const dir of SYSTEM_DIRS) {
    try {
      accessSync(`${dir}/${file}`, constants.X_OK);
      return `${file}: not on PATH (${process.env.PATH ?? ''}), but installed in ${dir}: add ${dir} to PATH`;
    } catch {
      // next directory
    }
  }
  return `${file}: command not found`;
}
