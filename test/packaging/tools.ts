/**
 * Shared by the packaging tests: the repository root, the built binaries (built when
 * missing or stale, as the other cross-package tests do), and running a command.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, root } from '../client/lab-tools.js';
import { buildServer } from '../server/daemon-helpers.js';

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
  return new Promise((resolve) => {
    const [command = '', ...args] = argv;
    const child = spawn(command, args, {
      cwd: opts.cwd ?? root,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(error) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
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
