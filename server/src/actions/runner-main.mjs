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
 * Runs `/bin/sh -c command` in its own session (knockd's setsid), stdout discarded,
 * stderr captured (bounded). On timeout the whole process group gets SIGTERM, then
 * SIGKILL after `killGraceMs`. Never rejects.
 *
 * @param {string} command
 * @param {{ timeoutMs?: number, killGraceMs?: number }} [options]
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

    const child = spawn('/bin/sh', ['-c', command], {
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

    child.stderr.on('data', (/** @type {Buffer} */ chunk) => {
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
      child.stderr.once('close', () => {
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
  // When the parent goes away the IPC channel closes, and the runner ends by itself
  // as soon as the commands still running have finished.
  process.on('message', (/** @type {any} */ message) => {
    if (message === null || typeof message !== 'object' || message.type !== 'run') return;
    const { id, command, timeoutMs, killGraceMs } = message;
    runShellCommand(String(command), { timeoutMs, killGraceMs }).then(
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
