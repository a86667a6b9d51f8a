/**
 * Runs `/bin/sh -c COMMAND` from this process: in its own session (knockd's setsid),
 * stdout discarded, stderr kept up to STDERR_LIMIT bytes, the whole process group
 * killed when it outlives its timeout (SIGTERM, then SIGKILL after a grace period).
 * The daemon does not use this (it would fork itself): the command runner's shells do
 * (command-runner.ts). It serves tools and tests (`createDirectRunner`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Bytes of a command's stderr kept (the rest is read and dropped, with a note). */
export const STDERR_LIMIT = 8192;
/** After the timeout's SIGTERM, how long the command's process group has before SIGKILL. */
export const KILL_GRACE_MS = 2000;

export interface CommandResult {
  /** Exit status, or null when the command was killed by a signal (or never ran). */
  code: number | null;
  signal: string | null;
  /** The command's stderr (the first 8 KiB). */
  stderr: string;
  /** Killed because it outlived its timeout. */
  timedOut: boolean;
  durationMs: number;
  /** Set when the command could not run at all, or its result was lost. */
  error?: string;
}

/** Keeps the first STDERR_LIMIT bytes of a stream's chunks, and whether more came. */
export class BoundedText {
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #cut = false;

  add(chunk: Buffer): void {
    if (this.#kept >= STDERR_LIMIT) {
      this.#cut = true;
      return;
    }
    const room = STDERR_LIMIT - this.#kept;
    if (chunk.length > room) this.#cut = true;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.#chunks.push(part);
    this.#kept += part.length;
  }

  get text(): string {
    const text = Buffer.concat(this.#chunks).toString('utf8');
    return this.#cut ? `${text}\n[stderr truncated]` : text;
  }
}

/** Signals process group `pid`, if it is still there. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/**
 * May process group `pgid` still be signalled, its leader already waited for? A group id
 * stays taken while any member lives, so a new process gets that pid only once the group
 * has emptied: if a process holds the pid now, the group is gone and the id may be some
 * other group's. Without /proc this cannot be told, and it is signalled, as before.
 */
export function groupOutlivesLeader(pgid: number): boolean {
  return !existsSync('/proc/self/stat') || !existsSync(`/proc/${pgid}`);
}

export function runShellCommand(
  command: string,
  options: { timeoutMs?: number; killGraceMs?: number; stderrDrainMs?: number } = {},
): Promise<CommandResult> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 0;
  const killGraceMs = options.killGraceMs ?? KILL_GRACE_MS;
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stderr = new BoundedText();
    let timedOut = false;
    let exited = false;
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (fields: Partial<CommandResult>) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      resolve({
        code: null,
        signal: null,
        stderr: stderr.text,
        timedOut,
        durationMs: Date.now() - started,
        ...fields,
      });
    };
    child.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));
    child.on('error', (error) => finish({ error: `could not run /bin/sh: ${error.message}` }));
    child.on('exit', (code, signal) => {
      exited = true;
      // The last stderr bytes, but not a background process that keeps the pipe open.
      const done = () => finish({ code, signal });
      const wait = setTimeout(done, options.stderrDrainMs ?? 100);
      child.stderr.once('close', () => {
        clearTimeout(wait);
        done();
      });
    });
    // Until 'exit' the child is not waited for (a zombie keeps its pid), so its pid and
    // its group are its own. After, pids wrap (in minutes on a busy machine).
    if (timeoutMs > 0 && child.pid !== undefined) {
      const pid = child.pid;
      timer = setTimeout(() => {
        // Exited in time (its last stderr bytes are awaited): no timeout.
        if (exited) return;
        timedOut = true;
        killGroup(pid, 'SIGTERM');
        // What is left of the group gets SIGKILL, even after sh exited: only while
        // the group id cannot have passed to another group.
        setTimeout(() => {
          if (!exited || groupOutlivesLeader(pid)) killGroup(pid, 'SIGKILL');
        }, killGraceMs).unref();
      }, timeoutMs);
    }
  });
}
