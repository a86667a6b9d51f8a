// knock-server's command runner: a small long-lived Node process that runs door
// commands (`/bin/sh -c CMD`) on request, so the daemon (a big process busy with its
// capture loop) never fork()s itself: copying its page tables stalls the loop long
// enough to overflow the capture ring (see issue 4).
//
// Plain JavaScript on purpose: Node runs it as is, from the sources and from a build
// alike (runner.ts finds it next to itself or in ../../src/actions). It is also
// imported in-process by `directRunner`, hence the guarded main below.
//
// Commands start in shells kept ready (see WarmShells), so starting one costs neither
// a fork of this process nor an exec. Each ready shell reads its script from a FIFO
// the parent (the daemon) opens: the daemon writes a door command straight into it,
// with no round trip through this process on the way (about 2 ms on a busy machine);
// this process still supervises the shell (stderr, exit status, timeout) and reports
// the result.
//
// Protocol (Node IPC, one JSON message each way):
//   parent → runner  { type: 'run', id, command, timeoutMs, killGraceMs }
//                    { type: 'started', id, shell, timeoutMs, killGraceMs }
//                                                  the parent wrote a command into it
//                    { type: 'released', shell }   it let go of a shell unused
//   runner → parent  { type: 'ready', pid } once, { type: 'shell', shell, fifo } for
//                    each ready shell, { type: 'result', id, result }
// The runner ends when the parent goes away (IPC disconnect) and ignores the
// terminal's and service manager's signals meanwhile: at shutdown the daemon still
// needs it to run the pending stop commands.
import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
export const WARM_MAX_BYTES = 4000;
/** Starting replacements waits this long, so it does not compete with the command just started. */
const REFILL_DELAY_MS = 20;
/** Shells the parent let go of in a row before the runner stops handing them over. */
const MAX_HAND_OVER_FAILURES = 5;

/** Whether a command can go to a ready shell (else it is spawned as `sh -c`). */
export const warmable = (/** @type {string} */ command) =>
  !command.includes('\0') && Buffer.byteLength(command) <= WARM_MAX_BYTES;

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
 * @typedef {{ code: number | null, signal: string | null, stderr: string, timedOut: boolean, durationMs: number, error?: string }} ShellResult
 */

/**
 * Watches a shell from the moment it exists: stderr (bounded), exit status, and,
 * once `arm` is called, its timeout: the whole process group gets SIGTERM, then
 * SIGKILL after `killGraceMs`. The result never rejects.
 * @param {import('node:child_process').ChildProcess} child
 */
function supervise(child) {
  /** @type {Buffer[]} */
  const chunks = [];
  let kept = 0;
  let cut = false;
  let timedOut = false;
  let settled = false;
  let armed = false;
  let started = Date.now();
  /** @type {ShellResult | undefined} */
  let early;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {(result: ShellResult) => void} */
  let resolve = () => {};
  /** @type {Promise<ShellResult>} */
  const result = new Promise((r) => (resolve = r));
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
    const outcome = {
      code: null,
      signal: null,
      stderr,
      timedOut,
      durationMs: armed ? Date.now() - started : 0,
      ...fields,
    };
    // A shell can finish before the news that it started arrives: report it then.
    if (armed) resolve(outcome);
    else early = outcome;
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
  return {
    result,
    /** The command started now: time it, and kill it after `timeoutMs` (0: never). */
    arm(/** @type {number} */ timeoutMs, /** @type {number} */ killGraceMs) {
      armed = true;
      started = Date.now();
      if (early !== undefined) resolve(early);
      if (timeoutMs > 0 && !settled) {
        timer = setTimeout(() => {
          timedOut = true;
          killGroup('SIGTERM');
          // Whatever is left of the group (even after sh exits) then gets SIGKILL.
          setTimeout(() => killGroup('SIGKILL'), killGraceMs).unref();
        }, timeoutMs);
      }
    },
  };
}

/**
 * Shells kept ready (`size` of them, counting those handed to the parent): take()
 * hands one out, and replacements start shortly after one is used. Idle shells do
 * not keep the process alive, and exit by themselves when it ends (their stdin
 * closes: an empty script).
 *
 * With `handOver`, new shells are for the parent instead: each one reads its script
 * from a FIFO in a private directory (`mkfifo`, then `exec /bin/sh -s <fifo`, both
 * before any command), and `handOver(pid, fifo)` tells the parent, which opens the
 * FIFO and later writes a command into it with plain synchronous writes (a shell
 * that died is an immediate EPIPE there, never a lost command).
 */
export class WarmShells {
  /**
   * @param {number} size
   * @param {(pid: number, fifo: string) => boolean} [handOver] tells the parent (true when sent)
   */
  constructor(size, handOver) {
    this.size = size;
    this.handOver = handOver;
    /** @type {string | undefined} */
    this.dir = undefined;
    this.fifos = 0;
    /** @type {import('node:child_process').ChildProcess[]} */
    this.ready = [];
    /** Handed to the parent. @type {Map<number, { child: import('node:child_process').ChildProcess, watch: ReturnType<typeof supervise> }>} */
    this.claimed = new Map();
    this.refilling = false;
    this.closed = false;
    /** Shells the parent let go of in a row: past a few, it cannot take them. */
    this.failures = 0;
    this.refill();
  }

  get available() {
    return this.ready.length + this.claimed.size;
  }

  refill() {
    while (!this.closed && this.available < this.size) {
      if (this.handOver !== undefined && this.spawnForParent()) continue;
      let child;
      try {
        child = spawn('/bin/sh', WARM_ARGS, {
          detached: true,
          stdio: ['pipe', 'ignore', 'pipe'],
        });
      } catch {
        return;
      }
      child.on('error', () => {});
      if (child.pid === undefined) return;
      child.stdin?.on('error', () => {});
      holdsProcess(child, false);
      this.ready.push(child);
    }
  }

  /** A shell reading from a new FIFO, for the parent; false if that cannot be set up. */
  spawnForParent() {
    let fifo;
    let child;
    try {
      this.dir ??= mkdtempSync(join(tmpdir(), 'knock-runner-'));
      fifo = join(this.dir, String(++this.fifos));
      child = spawn('/bin/sh', ['-c', 'mkfifo -m 600 "$0" && exec /bin/sh -s <"$0"', fifo], {
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch {
      return false;
    }
    child.on('error', () => {});
    if (child.pid === undefined) return false;
    holdsProcess(child, false);
    const pid = child.pid;
    this.claimed.set(pid, { child, watch: supervise(child) });
    if (this.handOver?.(pid, fifo) !== true) this.released(pid);
    return true;
  }

  refillSoon() {
    if (this.refilling || this.closed) return;
    this.refilling = true;
    setTimeout(() => {
      this.refilling = false;
      this.refill();
    }, REFILL_DELAY_MS).unref();
  }

  /**
   * A ready shell now running `command`, or undefined (none ready, or a command too
   * long for one atomic pipe write: then spawn as usual).
   * @param {string} command
   */
  take(command) {
    if (!warmable(command)) return undefined;
    let child;
    while ((child = this.ready.shift()) !== undefined) {
      if (child.exitCode === null && child.signalCode === null && child.stdin?.writable) break;
    }
    this.refillSoon();
    if (child === undefined) return undefined;
    holdsProcess(child, true);
    child.stdin?.end(command);
    return child;
  }

  /**
   * The parent let go of shell `pid` without a command (it could not open its FIFO or
   * write to it): end it, start a replacement.
   * @param {number} pid
   */
  released(pid) {
    const entry = this.claimed.get(pid);
    if (entry === undefined) return;
    this.claimed.delete(pid);
    signalGroup(pid, 'SIGKILL');
    // A parent that cannot open the FIFOs gets none any more: ready shells stay here.
    if (++this.failures >= MAX_HAND_OVER_FAILURES) this.handOver = undefined;
    this.refillSoon();
  }

  /**
   * The parent wrote a command into shell `pid`: its result, or undefined when that
   * shell is not known (any more).
   * @param {number} pid
   * @param {number} timeoutMs
   * @param {number} killGraceMs
   */
  started(pid, timeoutMs, killGraceMs) {
    const entry = this.claimed.get(pid);
    if (entry === undefined) return undefined;
    this.claimed.delete(pid);
    this.failures = 0;
    this.refillSoon();
    holdsProcess(entry.child, true);
    entry.watch.arm(timeoutMs, killGraceMs);
    return entry.watch.result;
  }

  /** The parent is gone: shells nobody can write to any more end now. */
  close() {
    this.closed = true;
    for (const child of this.ready.splice(0)) child.stdin?.end();
    for (const pid of this.claimed.keys()) signalGroup(pid, 'SIGKILL');
    this.claimed.clear();
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Signals process group `pid` (a shell in its own session), if it is still there. */
function signalGroup(/** @type {number} */ pid, /** @type {NodeJS.Signals} */ signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
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
 * @returns {Promise<ShellResult>}
 */
export function runShellCommand(command, options = {}) {
  const child =
    options.warm?.take(command) ??
    spawn('/bin/sh', ['-c', command], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  const watch = supervise(child);
  watch.arm(options.timeoutMs ?? 0, options.killGraceMs ?? KILL_GRACE_MS);
  return watch.result;
}

function main() {
  const send = (/** @type {object} */ message) => {
    // The parent may go away at any moment: a message that cannot go is dropped.
    if (process.connected) process.send?.(message, undefined, {}, () => {});
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(signal, () => {});
  // Ready first: the shells handed over below must reach a parent that knows this runner.
  send({ type: 'ready', pid: process.pid });
  const warm = new WarmShells(2, (pid, fifo) => {
    if (!process.connected) return false;
    send({ type: 'shell', shell: pid, fifo });
    return true;
  });
  /** @param {number} id @param {Promise<ShellResult>} result */
  const report = (id, result) =>
    result.then(
      (outcome) => send({ type: 'result', id, result: outcome }),
      (error) => send({ type: 'result', id, result: { error: String(error) } }),
    );
  // When the parent goes away the IPC channel closes, and the runner ends by itself
  // as soon as the commands still running have finished.
  process.on('disconnect', () => warm.close());
  process.on('message', (/** @type {any} */ message) => {
    if (message === null || typeof message !== 'object') return;
    switch (message.type) {
      case 'run': {
        const { id, command, timeoutMs, killGraceMs } = message;
        report(id, runShellCommand(String(command), { timeoutMs, killGraceMs, warm }));
        break;
      }
      case 'released':
        warm.released(Number(message.shell));
        break;
      case 'started': {
        const { id, shell, timeoutMs, killGraceMs } = message;
        const result = warm.started(Number(shell), timeoutMs ?? 0, killGraceMs ?? KILL_GRACE_MS);
        report(
          id,
          result ??
            Promise.resolve({
              code: null,
              signal: null,
              stderr: '',
              timedOut: false,
              durationMs: 0,
              error: `the ready shell (pid ${shell}) is gone; the command did not run`,
            }),
        );
        break;
      }
    }
  });
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
