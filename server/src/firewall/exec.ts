// The one place the firewall code starts programs: argv arrays through execFile, never a shell.
import { execFile } from 'node:child_process';
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
        if (errno === 'ENOENT')
          return resolve({ code: 127, stdout, stderr: `${file}: command not found` });
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
