/**
 * Shared by the packaging tests: the repository root, the built binaries (built when
 * missing or stale, as the other cross-package tests do), and running a command.
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, root } from '../helpers/lab-tools.js';
import { buildServer } from '../helpers/daemon.js';
import { runProcess } from '../helpers/run.js';

export { root };
export const knockBin = join(root, 'client-cli', 'bin', 'knock.js');
export const serverBin = join(root, 'server', 'bin', 'knock-server.js');

export async function buildAll(): Promise<void> {
  await Promise.all([ensureBuilt(), buildServer()]);
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv to completion (never throws on a non-zero exit); `input` goes to stdin. */
export function run(
  argv: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<Result> {
  return runProcess(argv, { ...opts, cwd: opts.cwd ?? root, timeoutMs: opts.timeoutMs ?? 60_000 });
}

/** The first of `dirs`/`name` that is executable, or undefined. */
export function which(name: string, dirs = ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // next
    }
  }
  return undefined;
}
