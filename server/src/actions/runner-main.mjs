// knock-server's command runner: a small long-lived Node process that runs door
// commands (`/bin/sh -c CMD`) on request, so the daemon (a big process busy with its
// capture loop) never fork()s itself: copying its page tables stalls the loop long
// enough to overflow the capture ring (see issue 4).
//
// Plain JavaScript on purpose: Node runs it as is, from the sources and from a build
// alike (runner.ts finds it next to itself or in ../../src/actions). It is also
// imported in-process by `directRunner`, hence the guarded main below.
//
// Protocol (Node IPC, one JSON message each way):
//   parent → runner  { type: 'run', id, command, timeoutMs, killGraceMs }
//   runner → parent  { type: 'ready', pid } once, then { type: 'result', id, result }
// The runner ends when the parent goes away (IPC disconnect) and ignores the
// terminal's and service manager's signals meanwhile: at shutdown the daemon still
// needs it to run the pending stop commands.
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Bytes of a command's stderr kept (the rest is cut, with a note). */
export const STDERR_LIMIT = 8192;
/** After the timeout's SIGTERM, how long the command's process group has before SIGKILL. */
export const KILL_GRACE_MS = 2000;

/**
 * Shells started ahead of time (`/bin/sh -s`, in their own session), each blocked
 * reading its script from stdin. A door command is written there whole (one atomic
 * pipe write) and stdin closed: the shell runs it as `/bin/sh -c` would (same $0,
 * same error texts, same exit status, stdin at end of file; only `$-` shows `s`).
 * Starting a command then costs no fork of this Node process (copying its page
 * tables, with libuv waiting for the child's exec, took 5-15 ms on a busy 2-core
 * machine) and no exec: the shell is already running.
 */
const WARM_ARGS = ['-s'];
/** Longer scripts could be read in pieces, so a command reading stdin might see part of it. */
const WARM_MAX_BYTES = 4000;
/** Starting replacements waits this long, so it does not compete with the command just started. */
const REFILL_DELAY_MS = 20;

/**
 * Whether `child` (the process and its pipes, which are net.Socket instances) keeps
 * this process's event loop alive.
 * @param {import('node:child_process').ChildProcess} child
 * @param {boolean} on
 */
function holdsProcess(child, on) {
  for (const stream of [child.stdin, child.stderr]) {
    const socket = /** @type {import('node:net').Socket | null} */ (
      /** @type {unknown} */ (stream)
    );
    if (on) socket?.ref();
    else socket?.unref();
  }
  if (on) child.ref();
  else child.unref();
}

/**
 * Shells kept ready (`size` of them): take() hands one out and starts its
 * replacement shortly after. Idle shells do not keep the process alive, and exit by
 * themselves when it ends (their stdin closes: an empty script).
 */
export class WarmShells {
  /** @param {number} size */
  constructor(size) {
    this.size = size;
    /** @type {import('node:child_process').ChildProcess[]} */
    this.ready = [];
    this.refilling = false;
    this.closed = false;
    this.refill();
  }

  refill() {
    while (!this.closed && this.ready.length < this.size) {
      let child;
      try {
        child = spawn('/bin/sh', WARM_ARGS, {
          detached: true,
          stdio: ['pipe', 'ignore', 'pipe'],
        });
      } catch {
        return;
      }
      if (child.pid === undefined) {
        child.on('error', () => {});
        return;
      }
      child.on('error', () => {});
      child.stdin?.on('error', () => {});
      holdsProcess(child, false);
      this.ready.push(child);
    }
  }

  /**
   * A ready shell now running `command`, or undefined (none ready, or a command too
   * long for one atomic pipe write: then spawn as usual).
   * @param {string} command
   */
  take(command) {
    if (command.includes('\0') || Buffer.byteLength(command) > WARM_MAX_BYTES) return undefined;
    let child;
    while ((child = this.ready.shift()) !== undefined) {
      if (child.exitCode === null && child.signalCode === null && child.stdin?.writable) break;
    }
    if (!this.refilling) {
      this.refilling = true;
      setTimeout(() => {
        this.refilling = false;
        this.refill();
      }, REFILL_DELAY_MS).unref();
    }
    if (child === undefined) return undefined;
    holdsProcess(child, true);
    child.stdin?.end(command);
    return child;
  }

  close() {
    this.closed = true;
    for (const child of this.ready.splice(0)) child.stdin?.end();
  }
}

/**
 * Runs `/bin/sh -c command` in its own session (knockd's setsid), stdout discarded,
 * stderr captured (bounded). On timeout the whole process group gets SIGTERM, then
 * SIGKILL after `killGraceMs`. Never rejects. With `warm`, a ready shell runs it when
 * there is one.
 *
 * @param {string} command
 * @param {{ timeoutMs?: number, killGraceMs?: number, warm?: WarmShells }} [options]
 * @returns {Promise<{ code: number | null, signal: string | null, stderr: string, timedOut: boolean, durationMs: number, error?: string }>}
 */
export function runShellCommand(command, options = {}) {
  const timeoutMs = options.timeoutMs ?? 0;
  const killGraceMs = options.killGraceMs ?? KILL_GRACE_MS;
  const started = Date.now();
  return new Promise((resolve) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let kept = 0;
    let cut = false;
    let timedOut = false;
    let settled = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;

    const child =
      options.warm?.take(command) ??
      spawn('/bin/sh', ['-c', command], {
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    const pid = child.pid;
    const killGroup = (/** @type {NodeJS.Signals} */ signal) => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, signal);
      } catch {
        // the group is already gone
      }
    };
    const finish = (/** @type {object} */ fields) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      let stderr = Buffer.concat(chunks).toString('utf8');
      if (cut) stderr += '\n[stderr truncated]';
      resolve({
        code: null,
        signal: null,
        stderr,
        timedOut,
        durationMs: Date.now() - started,
        ...fields,
      });
    };

    const stderrPipe = /** @type {import('node:stream').Readable} */ (child.stderr);
    stderrPipe.on('data', (/** @type {Buffer} */ chunk) => {
      if (kept >= STDERR_LIMIT) {
        cut = true;
        return;
      }
      const room = STDERR_LIMIT - kept;
      if (chunk.length > room) cut = true;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(part);
      kept += part.length;
    });
    child.on('error', (error) => {
      finish({ error: `could not run /bin/sh: ${error.message}` });
    });
    child.on('exit', (code, signal) => {
      // Let the last stderr bytes arrive, but do not wait for a background process
      // that keeps the pipe open.
      const done = () => finish({ code, signal });
      const wait = setTimeout(done, 100);
      stderrPipe.once('close', () => {
        clearTimeout(wait);
        done();
      });
    });
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        // Whatever is left of the group (even after sh exits) then gets SIGKILL.
        setTimeout(() => killGroup('SIGKILL'), killGraceMs).unref();
      }, timeoutMs);
    }
  });
}

function main() {
  const send = (/** @type {object} */ message) => {
    if (process.connected) process.send?.(message);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(signal, () => {});
  const warm = new WarmShells(2);
  // When the parent goes away the IPC channel closes, and the runner ends by itself
  // as soon as the commands still running have finished.
  process.on('disconnect', () => warm.close());
  process.on('message', (/** @type {any} */ message) => {
    if (message === null || typeof message !== 'object' || message.type !== 'run') return;
    const { id, command, timeoutMs, killGraceMs } = message;
    runShellCommand(String(command), { timeoutMs, killGraceMs, warm }).then(
      (result) => send({ type: 'result', id, result }),
      (error) => send({ type: 'result', id, result: { error: String(error) } }),
    );
  });
  send({ type: 'ready', pid: process.pid });
}

const self = fileURLToPath(import.meta.url);
const entry = process.argv[1];
if (entry !== undefined && process.send !== undefined) {
  let same = false;
  try {
    same = realpathSync(entry) === realpathSync(self);
  } catch {
    same = false;
  }
  if (same) main();
}
