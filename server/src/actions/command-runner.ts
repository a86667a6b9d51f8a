// Runs door commands through a long-lived runner process (runner-main.mjs), so the
// daemon itself never fork()s inside its capture loop; `directRunner` runs them
// in-process (tests, tools).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ExitCode, KnockError } from '@knock/shared';

export interface CommandResult {
  /** Exit status, or null when the command was killed by a signal (or never ran). */
  code: number | null;
  signal: string | null;
  /** The command's stderr (the first 8 KiB). */
  stderr: string;
  /** Killed because it outlived its timeout. */
  timedOut: boolean;
  durationMs: number;
  /** Set when the command could not run at all, or its result was lost (runner died). */
  error?: string;
}

export interface RunOptions {
  /** Kill the command's process group after this long (0: never). */
  timeoutMs?: number;
}

export interface CommandRunner {
  /** Runs `/bin/sh -c command`. Never rejects for a failing command; rejects once closed. */
  run(command: string, options?: RunOptions): Promise<CommandResult>;
  /** Waits for running commands, then stops. */
  close(): Promise<void>;
}

export interface CommandRunnerOptions {
  /** Default for RunOptions.timeoutMs. Default 60 s. */
  timeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL for a timed-out command. Default 2 s. */
  killGraceMs?: number;
  /** Told when the runner process dies and is restarted. */
  onEvent?: (message: string) => void;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

/**
 * The runner script: next to this module when running from the sources, in
 * ../../src/actions when running from dist (tsc does not copy .mjs files).
 */
export function runnerScriptPath(): string {
  const candidates = [
    new URL('./runner-main.mjs', import.meta.url),
    new URL('../../src/actions/runner-main.mjs', import.meta.url),
  ].map((url) => fileURLToPath(url));
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new KnockError(
      'runner.missing',
      `the command runner script is missing (${candidates[0]})`,
      {
        exitCode: ExitCode.internal,
        hint: 'reinstall knock-server: server/src/actions/runner-main.mjs must be present',
      },
    );
  }
  return found;
}

type ShellRun = (
  command: string,
  options: { timeoutMs?: number; killGraceMs?: number },
) => Promise<CommandResult>;

let shellRun: Promise<ShellRun> | undefined;

/** Runs commands in this process (same code as the runner process). For tests and tools. */
export function createDirectRunner(options: CommandRunnerOptions = {}): CommandRunner {
  const timeout = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  let closed = false;
  const running = new Set<Promise<CommandResult>>();
  return {
    async run(command, runOptions = {}) {
      if (closed) throw new KnockError('runner.closed', 'the command runner is closed');
      shellRun ??= import(pathToFileURL(runnerScriptPath()).href).then(
        (module: { runShellCommand: ShellRun }) => module.runShellCommand,
      );
      const run = await shellRun;
      const result = run(command, {
        timeoutMs: runOptions.timeoutMs ?? timeout,
        killGraceMs: options.killGraceMs,
      });
      running.add(result);
      try {
        return await result;
      } finally {
        running.delete(result);
      }
    },
    async close() {
      closed = true;
      await Promise.allSettled([...running]);
    },
  };
}

export const directRunner: CommandRunner = createDirectRunner();

interface Waiting {
  resolve: (result: CommandResult) => void;
  started: number;
}

interface RunnerMessage {
  type?: unknown;
  id?: unknown;
  pid?: unknown;
  shell?: unknown;
  fifo?: unknown;
  result?: Partial<CommandResult>;
}

/** A ready shell of the runner whose script FIFO this process holds open (see runner-main.mjs). */
interface Shell {
  pid: number;
  fd: number;
}

/** How long after writing a command into a ready shell the runner is told (see run()). */
const STARTED_NOTICE_DELAY_MS = 10;

/** What runner-main.mjs's warm shells can take: one atomic pipe write, no NUL. */
const WARM_MAX_BYTES = 4000;

/** A ready shell opens its FIFO a moment after it starts: how often, how long to try. */
const FIFO_OPEN_TRIES = 200;
const FIFO_OPEN_RETRY_MS = 5;

/** The runner process, restarted when it dies. */
class ProcessRunner implements CommandRunner {
  private child: ChildProcess | undefined;
  private starting: Promise<ChildProcess> | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;
  private restarts = 0;
  private lastStart = 0;
  /** Ready shells of the current runner, oldest first. */
  private shells: Shell[] = [];

  constructor(
    private readonly script: string,
    private readonly options: CommandRunnerOptions,
  ) {}

  /** The runner's pid (tests, diagnostics). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<ChildProcess> {
    this.starting ??= this.spawnChild().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private spawnChild(): Promise<ChildProcess> {
    this.lastStart = Date.now();
    return new Promise((resolve, reject) => {
      // Its own session: a Ctrl-C or SIGTERM meant for the daemon must not kill the
      // runner before the daemon has run its pending stop commands through it.
      const child = spawn(process.execPath, [this.script], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        detached: true,
      });
      let ready = false;
      child.on('message', (raw: RunnerMessage) => {
        if (raw.type === 'ready' && !ready) {
          ready = true;
          this.child = child;
          this.idle(child);
          resolve(child);
        } else if (raw.type === 'result' && typeof raw.id === 'number') {
          this.settle(raw.id, raw.result ?? {});
        } else if (
          raw.type === 'shell' &&
          typeof raw.shell === 'number' &&
          typeof raw.fifo === 'string'
        ) {
          this.openShell(child, raw.shell, raw.fifo, FIFO_OPEN_TRIES);
        }
      });
      child.on('error', (error) => {
        if (!ready)
          reject(
            new KnockError('runner.start', `cannot start the command runner: ${error.message}`),
          );
      });
      child.on('exit', (code, signal) => {
        if (!ready) {
          reject(
            new KnockError(
              'runner.start',
              `the command runner exited at start (${signal ?? `status ${code}`})`,
            ),
          );
          return;
        }
        if (this.child === child) this.child = undefined;
        this.dropShells();
        this.lost(child, code, signal);
      });
    });
  }

  /** The runner died: fail what it was running and start a new one (with backoff). */
  private lost(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const why = signal ?? `status ${code}`;
    for (const [id, waiting] of this.waiting) {
      this.waiting.delete(id);
      waiting.resolve({
        code: null,
        signal: null,
        stderr: '',
        timedOut: false,
        durationMs: Date.now() - waiting.started,
        error: `the command runner died (${why}) while the command ran; its outcome is unknown`,
      });
    }
    if (this.closed) return;
    this.restarts++;
    const quick = Date.now() - this.lastStart < 1000;
    const delay = quick ? Math.min(30_000, 250 * 2 ** Math.min(this.restarts, 7)) : 0;
    this.options.onEvent?.(
      `command runner (pid ${child.pid}) died (${why}); restarting it${delay > 0 ? ` in ${delay} ms` : ''}`,
    );
    setTimeout(() => {
      if (!this.closed && this.child === undefined) {
        this.start().catch((error: unknown) => {
          this.options.onEvent?.(
            `command runner restart failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        });
      }
    }, delay).unref();
  }

  /**
   * Opens the script FIFO of a ready shell of the runner, so a command goes straight
   * from here to the shell. The shell is blocked opening it for reading, which is what
   * lets a non-blocking open for writing succeed (before that: try again).
   */
  private openShell(child: ChildProcess, pid: number, fifo: string, tries: number): void {
    if (this.closed || child !== this.child) return;
    let fd: number;
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      // ENOENT: not made yet; ENXIO: nobody reading it yet.
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === 'ENXIO' || code === 'ENOENT') && tries > 1) {
        setTimeout(() => this.openShell(child, pid, fifo, tries - 1), FIFO_OPEN_RETRY_MS).unref();
      } else {
        child.send({ type: 'released', shell: pid });
      }
      return;
    }
    try {
      unlinkSync(fifo);
    } catch {
      // the runner removes its directory anyway
    }
    this.shells.push({ pid, fd });
  }

  /** Writes `command` into a ready shell: the shell's pid, or undefined (none ready). */
  private startInShell(child: ChildProcess, command: string): number | undefined {
    if (command.includes('\0') || Buffer.byteLength(command) > WARM_MAX_BYTES) return undefined;
    const bytes = Buffer.from(command);
    let shell: Shell | undefined;
    while ((shell = this.shells.shift()) !== undefined) {
      let written = -1;
      try {
        // One write to an empty pipe (at most 4000 bytes: atomic), then end of file.
        // A shell that died is EPIPE here, at once: the command goes to the next one.
        written = writeSync(shell.fd, bytes);
      } catch {
        // EPIPE: that shell is gone
      }
      closeSync(shell.fd);
      if (written === bytes.length) return shell.pid;
      child.send({ type: 'released', shell: shell.pid });
    }
    return undefined;
  }

  /** The runner is gone (or closing): let go of its shells (it ends the ones left). */
  private dropShells(): void {
    for (const shell of this.shells.splice(0)) {
      try {
        closeSync(shell.fd);
      } catch {
        // already closed
      }
    }
  }

  private settle(id: number, result: Partial<CommandResult>): void {
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return;
    this.waiting.delete(id);
    const full: CommandResult = {
      code: result.code ?? null,
      signal: result.signal ?? null,
      stderr: result.stderr ?? '',
      timedOut: result.timedOut ?? false,
      durationMs: result.durationMs ?? Date.now() - waiting.started,
    };
    if (result.error !== undefined) full.error = result.error;
    waiting.resolve(full);
    if (this.waiting.size === 0 && this.child !== undefined) this.idle(this.child);
  }

  // An idle runner does not keep the daemon's event loop alive; a busy one does.
  private idle(child: ChildProcess): void {
    child.unref();
    child.channel?.unref();
  }

  private busy(child: ChildProcess): void {
    child.ref();
    child.channel?.ref();
  }

  async run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    if (this.closed) throw new KnockError('runner.closed', 'the command runner is closed');
    const started = Date.now();
    let child: ChildProcess;
    try {
      child = this.child ?? (await this.start());
    } catch (error) {
      return {
        code: null,
        signal: null,
        stderr: '',
        timedOut: false,
        durationMs: Date.now() - started,
        error: error instanceof Error ? error.message : String(error),
      };
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve, started });
      this.busy(child);
      const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
      const killGraceMs = this.options.killGraceMs;
      // Straight into a ready shell when there is one; the runner learns it after.
      const shell = this.startInShell(child, command);
      const message =
        shell === undefined
          ? { type: 'run', id, command, timeoutMs, killGraceMs }
          : { type: 'started', id, shell, timeoutMs, killGraceMs };
      const send = () =>
        child.send(message, (error) => {
          if (error) {
            this.settle(id, { error: `could not reach the command runner: ${error.message}` });
          }
        });
      // The runner only needs to know when the command started (its timeout, its
      // result) a little later: waking it now would compete for the CPU with the
      // command itself on its way to the door (~0.7 ms on two busy cores).
      if (shell === undefined) send();
      else setTimeout(send, STARTED_NOTICE_DELAY_MS);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dropShells();
    await this.starting?.catch(() => undefined);
    await Promise.all(
      [...this.waiting.values()].map(
        (waiting) =>
          new Promise<void>((done) => {
            const resolve = waiting.resolve;
            waiting.resolve = (result) => {
              resolve(result);
              done();
            };
          }),
      ),
    );
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((done) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.once('exit', () => {
        clearTimeout(kill);
        done();
      });
      child.disconnect();
    });
  }
}

export type RunnerProcess = CommandRunner & { readonly pid: number | undefined };

/** Starts the runner process; resolves once it is ready to take commands. */
export async function startCommandRunner(
  options: CommandRunnerOptions = {},
): Promise<RunnerProcess> {
  const runner = new ProcessRunner(runnerScriptPath(), options);
  await runner.start();
  return runner;
}
