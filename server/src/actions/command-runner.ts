// Runs door commands without the daemon ever fork()ing inside its capture loop, and
// without a second Node process (it cost ~45 MB RSS; see the README's memory table).
//
// A small POSIX shell script (SUPERVISOR, runner-supervisor.ts, /bin/sh: dash, ~1 MB) is started once,
// before the capture opens. On request it prepares "ready shells": for each one a
// watcher subshell starts `setsid /bin/sh -s`, whose stderr and stdin are two FIFOs in
// a private directory. This process opens both FIFOs (stderr for reading, the script
// for writing) and holds them. Running a command is then one synchronous write of the
// command into a ready shell's script FIFO and a close: no fork, no exec, no round
// trip through the supervisor (it is told afterwards, to prepare a replacement). The
// watcher reports the shell's exit status on the supervisor's stdout, which this
// process reads; stderr comes straight from the shell's FIFO, bounded (8 KiB kept).
// Timeouts are enforced from here: SIGTERM to the command's process group (the ready
// shell is a session leader), SIGKILL after the grace period.
//
// Pids wrap within minutes on a busy machine (pid_max is often 32768), so a shell's pid
// is signalled only while it is still that shell: its exit not reported yet, and its
// start time (field 22 of /proc/PID/stat, which the watcher read while the shell was
// its unwaited child) unchanged; a reused pid has a later one. While the shell lives,
// its process group is its own (a session leader cannot leave it) and signalling the
// group is safe too. Once the shell was waited for, its group id can pass to another
// group after its last member ends, so nothing is signalled any more: a timeout that
// comes after the shell exited signals nothing (leftovers of a command that exited were
// never killed: its job ends within STDERR_DRAIN_MS of the exit). Where /proc is
// missing, a pid that exists is trusted, as before. (Between the check and the kill the
// pid would have to end and come back after a wrap: not in practice.)
//
// `sh -s` runs the script as `sh -c` would (same $0 `/bin/sh`, same error texts, same
// exit status, stdin at end of file; only `$-` shows `s`). Commands longer than
// DIRECT_MAX_BYTES (knockd's limit is 4095, so only from tools) are written to a file
// the ready shell reads whole before running it, through `exec /bin/sh -c`.
//
// What the shell reports is a wait status as sh sees it: a command killed by a signal
// shows as status 128+N (`exit 139` and a SIGSEGV look alike to sh). Only a command
// killed here at its timeout is reported with the signal sent.
//
// Supervisor protocol (lines):
//   daemon → supervisor   spawn | quit
//   supervisor → daemon   ready PID | shell N PID START | exit N PID STATUS | nofifo N
// (START: the shell's start time, field 22 of /proc/PID/stat, or `-` without /proc.)
//
// (Over 400 lines: ShellRunner is one class because the supervisor's generation, the
// ready shells, the jobs in flight and their timers are one state that every event
// (a line from the supervisor, a FIFO error, a timeout, close) reads and changes. The
// script is in runner-supervisor.ts, a command's own lifecycle in shell-command.ts.)
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KnockError } from '@knock/shared';
import { processStartTicks } from '@knock/shared/node';
import {
  BoundedText,
  KILL_GRACE_MS,
  killGroup,
  runShellCommand,
  type CommandResult,
} from './shell-command.js';
import { SUPERVISOR } from './runner-supervisor.js';

export { STDERR_LIMIT, KILL_GRACE_MS, type CommandResult } from './shell-command.js';

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
  /** Told when the supervisor dies and is restarted. */
  onEvent?: (message: string) => void;
  /** Shells kept ready. Default 1 (a second command waits a few ms for the next). */
  readyShells?: number;
  /** After a command's shell exits, how long its last stderr bytes are awaited. Default 100 ms. */
  stderrDrainMs?: number;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

/** Runs commands in this process (a fork per command): for tests and tools, not the daemon. */
export function createDirectRunner(options: CommandRunnerOptions = {}): CommandRunner {
  const timeout = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  let closed = false;
  const running = new Set<Promise<CommandResult>>();
  return {
    async run(command, runOptions = {}) {
      if (closed) throw new KnockError('runner.closed', 'the command runner is closed');
      const result = runShellCommand(command, {
        timeoutMs: runOptions.timeoutMs ?? timeout,
        ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
        ...(options.stderrDrainMs !== undefined ? { stderrDrainMs: options.stderrDrainMs } : {}),
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

/** Commands up to this many bytes go straight into a ready shell (dash reads 8 KiB at once). */
const DIRECT_MAX_BYTES = 8000;
/** Starting replacements waits this long, so it does not compete with the command just started. */
const REFILL_DELAY_MS = 20;
/** A ready shell opens its script FIFO a moment after it starts: how often, how long to try. */
const FIFO_OPEN_TRIES = 400;
const FIFO_OPEN_RETRY_MS = 5;
/** After a shell exits, its stderr may still be arriving: wait at most this long for it. */
const STDERR_DRAIN_MS = 100;

/** A supervisor process and what it reported. */
interface Generation {
  id: number;
  child: ChildProcess;
  dir: string;
  /** Slots asked for and not reported yet. */
  spawning: number;
}

interface Shell {
  gen: Generation;
  n: number;
  pid: number;
  /** Its start time as its watcher saw it (undefined without /proc). */
  start: string | undefined;
  /** Its exit was reported (or it vanished unreported): its pid is not ours any more. */
  exited: boolean;
  /** Write end of its script FIFO (undefined until opened). */
  script: number | undefined;
  stderr: Socket | undefined;
  text: BoundedText;
  stderrDone: boolean;
  onStderrDone: (() => void) | undefined;
  job: Job | undefined;
}

interface Job {
  command: string;
  timeoutMs: number;
  started: number;
  resolve: (result: CommandResult) => void;
  timedOut: boolean;
  lastSignal: NodeJS.Signals | undefined;
  timers: ReturnType<typeof setTimeout>[];
  longFile: string | undefined;
}

/** Is the shell's pid still that shell (not reported ended, not reused)? */
function isOurs(shell: Shell): boolean {
  if (shell.exited) return false;
  if (shell.start !== undefined) return processStartTicks(shell.pid) === shell.start;
  try {
    process.kill(shell.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ends a shell: its group once it is a session leader, the process before that. */
function killShell(shell: Shell): void {
  if (!isOurs(shell)) return;
  killGroup(shell.pid, 'SIGKILL');
  try {
    process.kill(shell.pid, 'SIGKILL');
  } catch {
    // gone
  }
}

const lost = (job: Job, error: string): CommandResult => ({
  code: null,
  signal: null,
  stderr: '',
  timedOut: false,
  durationMs: Date.now() - job.started,
  error,
});

class ShellRunner implements CommandRunner {
  private gen: Generation | undefined;
  private starting: Promise<Generation> | undefined;
  private nextGen = 1;
  private readonly ready: Shell[] = [];
  /** Shells by "generation:slot". */
  private readonly shells = new Map<string, Shell>();
  private readonly queue: Job[] = [];
  private readonly jobs = new Set<Job>();
  private closed = false;
  private restarts = 0;
  private lastStart = 0;
  private refillTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private readonly size: number;
  private longFiles = 0;

  constructor(private readonly options: CommandRunnerOptions) {
    this.size = Math.max(1, options.readyShells ?? 1);
  }

  /** The supervisor's pid (tests, diagnostics). */
  get pid(): number | undefined {
    return this.gen?.child.pid;
  }

  /** Pids of the shells ready now (tests). */
  get readyPids(): number[] {
    return this.ready.filter((s) => s.script !== undefined).map((s) => s.pid);
  }

  start(): Promise<Generation> {
    this.starting ??= this.spawnSupervisor().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private spawnSupervisor(): Promise<Generation> {
    this.lastStart = Date.now();
    let dir: string;
    try {
      dir = mkdtempSync(join(tmpdir(), 'knock-runner-'));
    } catch (error) {
      return Promise.reject(
        new KnockError(
          'runner.start',
          `cannot start the command runner: no private directory for its FIFOs in ${tmpdir()}: ${(error as Error).message}`,
          { hint: 'make that directory writable, or point TMPDIR at one that is' },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      // Its own session: a Ctrl-C meant for the daemon must not reach it.
      // A file, so `ps` shows what it is: sh /tmp/knock-runner-XXXXXX/knock-runner.sh.
      const script = join(dir, 'knock-runner.sh');
      writeFileSync(script, SUPERVISOR, { mode: 0o600 });
      const child = spawn('/bin/sh', [script, dir], {
        stdio: ['pipe', 'pipe', 'inherit'],
        detached: true,
      });
      const gen: Generation = { id: this.nextGen++, child, dir, spawning: 0 };
      let ready = false;
      let buffered = '';
      child.stdin?.on('error', () => undefined);
      // The watchers of this supervisor keep writing here even after it died.
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          if (!ready && line.startsWith('ready ')) {
            ready = true;
            this.gen = gen;
            this.idle();
            resolve(gen);
            this.refill();
          } else this.onLine(gen, line);
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
        this.supervisorGone(gen, code, signal);
      });
    });
  }

  /** The supervisor died: its shells keep working; a new one prepares the next ones. */
  private supervisorGone(gen: Generation, code: number | null, signal: NodeJS.Signals | null) {
    if (this.gen === gen) this.gen = undefined;
    // Ready shells it was preparing will never be reported.
    gen.spawning = 0;
    // Its directory: the FIFOs of shells in use are open (unlinked) already.
    rmSync(gen.dir, { recursive: true, force: true });
    if (this.closed) {
      this.failQueue('the command runner stopped before the command could start');
      return;
    }
    this.restarts++;
    const quick = Date.now() - this.lastStart < 1000;
    const delay = quick ? Math.min(30_000, 250 * 2 ** Math.min(this.restarts, 7)) : 0;
    this.options.onEvent?.(
      `command runner (pid ${gen.child.pid}) died (${signal ?? `status ${code}`}); restarting it${delay > 0 ? ` in ${delay} ms` : ''}`,
    );
    setTimeout(() => {
      if (!this.closed && this.gen === undefined) {
        this.start().catch((error: unknown) => {
          this.options.onEvent?.(
            `command runner restart failed: ${error instanceof Error ? error.message : String(error)}`,
          );
          this.failQueue(`the command runner cannot start: ${String(error)}`);
        });
      }
    }, delay).unref();
  }

  private onLine(gen: Generation, line: string): void {
    const [kind, a, b, c] = line.split(' ');
    const n = Number(a);
    if (kind === 'shell') {
      gen.spawning = Math.max(0, gen.spawning - 1);
      this.adopt(gen, n, Number(b), c === undefined || c === '-' ? undefined : c);
    } else if (kind === 'exit') {
      this.exited(gen, n, Number(c));
    } else if (kind === 'nofifo') {
      gen.spawning = Math.max(0, gen.spawning - 1);
      this.options.onEvent?.(
        `command runner: cannot create the FIFOs of a ready shell in ${gen.dir}`,
      );
      this.failQueue(`the command runner cannot prepare a shell (FIFOs in ${gen.dir})`);
    }
  }

  /** Opens a new ready shell's FIFOs: stderr first (its open for writing waits for us), then its script. */
  private adopt(gen: Generation, n: number, pid: number, start: string | undefined): void {
    const shell: Shell = {
      gen,
      n,
      pid,
      start,
      exited: false,
      script: undefined,
      stderr: undefined,
      text: new BoundedText(),
      stderrDone: false,
      onStderrDone: undefined,
      job: undefined,
    };
    this.shells.set(`${gen.id}:${n}`, shell);
    const base = join(gen.dir, String(n));
    // Read end of its stderr: lets the shell's open for writing go on. Read from only
    // once the shell holds the write end (a FIFO without a writer reads as at its end).
    let errFd: number;
    try {
      errFd = openSync(`${base}.err`, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      this.discard(shell);
      return;
    }
    const readStderr = () => {
      const socket = new Socket({ fd: errFd, readable: true, writable: false });
      socket.on('data', (chunk: Buffer) => shell.text.add(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        shell.stderrDone = true;
        shell.onStderrDone?.();
      });
      socket.unref();
      shell.stderr = socket;
    };
    const openScript = (tries: number) => {
      if (shell.exited) {
        // It died before it opened its script (its exit was handled): nothing to end.
        closeSync(errFd);
        return;
      }
      if (this.closed && this.queue.length === 0) {
        closeSync(errFd);
        this.discard(shell);
        return;
      }
      try {
        shell.script = openSync(`${base}.in`, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code === 'ENXIO' || code === 'EINTR') && tries > 1) {
          setTimeout(() => openScript(tries - 1), FIFO_OPEN_RETRY_MS).unref();
        } else {
          closeSync(errFd);
          this.discard(shell);
        }
        return;
      }
      // The shell opened its stderr before it waited for its script: it holds it now.
      readStderr();
      for (const suffix of ['.in', '.err'])
        try {
          unlinkSync(`${base}${suffix}`);
        } catch {
          // the supervisor removes its directory anyway
        }
      this.ready.push(shell);
      const job = this.queue.shift();
      if (job !== undefined) this.start_(job);
    };
    openScript(FIFO_OPEN_TRIES);
  }

  /** A shell we cannot use: end it (its watcher reports the exit, ignored). */
  private discard(shell: Shell): void {
    this.shells.delete(`${shell.gen.id}:${shell.n}`);
    const i = this.ready.indexOf(shell);
    if (i >= 0) this.ready.splice(i, 1);
    if (shell.script !== undefined) closeSync(shell.script);
    shell.script = undefined;
    shell.stderr?.destroy();
    killShell(shell);
    this.refillSoon();
  }

  private exited(gen: Generation, n: number, status: number): void {
    const key = `${gen.id}:${n}`;
    const shell = this.shells.get(key);
    if (shell === undefined) return;
    this.shells.delete(key);
    shell.exited = true;
    const job = shell.job;
    if (job === undefined) {
      // A ready shell died before it got a command (killed from outside): replace it.
      const i = this.ready.indexOf(shell);
      if (i >= 0) this.ready.splice(i, 1);
      if (shell.script !== undefined) closeSync(shell.script);
      shell.script = undefined;
      shell.stderr?.destroy();
      this.refillSoon();
      return;
    }
    const finish = () => {
      shell.onStderrDone = undefined;
      shell.stderr?.destroy();
      this.finishJob(job, {
        code: job.timedOut ? null : status,
        signal: job.timedOut ? (job.lastSignal ?? 'SIGTERM') : null,
        stderr: shell.text.text,
        timedOut: job.timedOut,
        durationMs: Date.now() - job.started,
      });
    };
    if (shell.stderrDone) finish();
    else {
      // The last stderr bytes, but not a background process that keeps the FIFO open.
      const wait = setTimeout(finish, this.options.stderrDrainMs ?? STDERR_DRAIN_MS);
      shell.onStderrDone = () => {
        clearTimeout(wait);
        finish();
      };
    }
  }

  private finishJob(job: Job, result: CommandResult): void {
    if (!this.jobs.delete(job)) return;
    for (const timer of job.timers) clearTimeout(timer);
    if (job.longFile !== undefined) rmSync(job.longFile, { force: true });
    job.resolve(result);
    if (this.jobs.size === 0) this.idle();
  }

  private failQueue(error: string): void {
    for (const job of this.queue.splice(0)) this.finishJob(job, lost(job, error));
  }

  /** Keeps `size` shells ready (or being prepared). */
  private refill(): void {
    const gen = this.gen;
    // Closing: only for the commands still waiting for a shell.
    if (gen === undefined || (this.closed && this.queue.length === 0)) return;
    const want =
      (this.closed ? 0 : this.size) + this.queue.length - this.ready.length - gen.spawning;
    for (let i = 0; i < want; i++) {
      gen.spawning++;
      gen.child.stdin?.write('spawn\n');
    }
  }

  private refillSoon(): void {
    if (this.refillTimer !== undefined || (this.closed && this.queue.length === 0)) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.refill();
    }, REFILL_DELAY_MS);
    this.refillTimer.unref();
  }

  /** Writes the job's command into a ready shell; false when none could take it. */
  private start_(job: Job): boolean {
    let script = job.command;
    if (Buffer.byteLength(script) > DIRECT_MAX_BYTES || script.includes('\0')) {
      const gen = this.gen ?? this.ready[0]?.gen;
      if (gen === undefined) return false;
      job.longFile ??= join(gen.dir, `long-${++this.longFiles}`);
      writeFileSync(job.longFile, job.command, { mode: 0o600 });
      // Read whole (the x keeps trailing newlines), then run as sh -c would.
      script = `c=$(cat '${job.longFile}'; echo x); exec /bin/sh -c "\${c%x}"`;
    }
    const bytes = Buffer.from(script);
    let shell: Shell | undefined;
    while ((shell = this.ready.shift()) !== undefined) {
      let written = -1;
      try {
        // One write to an empty pipe (at most 8000 bytes: the shell reads it at once),
        // then end of file. A shell that died is EPIPE here, at once.
        written = writeSync(shell.script!, bytes);
      } catch {
        // EPIPE: that shell is gone
      }
      closeSync(shell.script!);
      shell.script = undefined;
      if (written === bytes.length) break;
      shell.stderr?.destroy();
      // Most likely dead already (EPIPE): its exit line may be on its way.
      killShell(shell);
    }
    this.refillSoon();
    if (shell === undefined) return false;
    shell.job = job;
    const running = shell;
    if (job.timeoutMs > 0) {
      job.timers.push(
        setTimeout(() => {
          // Ended already (its exit reported, the job waits for its last stderr), or gone
          // unreported (the watchdog tells): no timeout, and no pid to signal.
          if (!isOurs(running)) return;
          job.timedOut = true;
          job.lastSignal = 'SIGTERM';
          killGroup(running.pid, 'SIGTERM');
          // If sh is still there after the grace, it and its group get SIGKILL.
          const grace = setTimeout(() => {
            if (!this.jobs.has(job) || !isOurs(running)) return;
            job.lastSignal = 'SIGKILL';
            killGroup(running.pid, 'SIGKILL');
          }, this.options.killGraceMs ?? KILL_GRACE_MS);
          job.timers.push(grace);
        }, job.timeoutMs),
      );
    }
    this.watch();
    return true;
  }

  /** While commands run: a shell whose watcher vanished must not leave run() pending. */
  private watch(): void {
    if (this.watchdog !== undefined) return;
    const gone = new Set<Shell>();
    this.watchdog = setInterval(() => {
      const running = [...this.shells.values()].filter((s) => s.job !== undefined);
      if (running.length === 0 && this.jobs.size === 0) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
        return;
      }
      for (const shell of running) {
        if (isOurs(shell)) gone.delete(shell);
        else if (!gone.has(shell)) gone.add(shell);
        else {
          // Gone two checks in a row and never reported: its watcher was killed.
          gone.delete(shell);
          this.shells.delete(`${shell.gen.id}:${shell.n}`);
          shell.exited = true;
          shell.stderr?.destroy();
          this.finishJob(
            shell.job!,
            lost(
              shell.job!,
              `the command's shell (pid ${shell.pid}) ended unreported; its outcome is unknown`,
            ),
          );
        }
      }
    }, 1000);
    this.watchdog.unref();
  }

  // An idle runner does not keep the daemon's event loop alive; a busy one does.
  private idle(): void {
    const child = this.gen?.child;
    child?.unref();
    (child?.stdout as Socket | null | undefined)?.unref();
    (child?.stdin as Socket | null | undefined)?.unref();
  }

  private busy(): void {
    const child = this.gen?.child;
    child?.ref();
    (child?.stdout as Socket | null | undefined)?.ref();
  }

  async run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    if (this.closed) throw new KnockError('runner.closed', 'the command runner is closed');
    const job: Job = {
      command,
      timeoutMs: options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      started: Date.now(),
      resolve: () => undefined,
      timedOut: false,
      lastSignal: undefined,
      timers: [],
      longFile: undefined,
    };
    const result = new Promise<CommandResult>((resolve) => (job.resolve = resolve));
    this.jobs.add(job);
    if (this.gen === undefined && this.ready.length === 0) {
      try {
        await this.start();
      } catch (error) {
        this.finishJob(job, lost(job, error instanceof Error ? error.message : String(error)));
        return result;
      }
    }
    this.busy();
    if (!this.start_(job)) {
      // No shell ready: this one waits for the next (a few ms).
      this.queue.push(job);
      this.refill();
    }
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.starting?.catch(() => undefined);
    // Commands still waiting for a shell get one (close waits for every command).
    await Promise.all(
      [...this.jobs].map(
        (job) =>
          new Promise<void>((done) => {
            const resolve = job.resolve;
            job.resolve = (result) => {
              resolve(result);
              done();
            };
          }),
      ),
    );
    if (this.refillTimer !== undefined) clearTimeout(this.refillTimer);
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    for (const shell of this.ready.splice(0)) {
      this.shells.delete(`${shell.gen.id}:${shell.n}`);
      if (shell.script !== undefined) closeSync(shell.script);
      shell.script = undefined;
      shell.stderr?.destroy();
      killShell(shell);
    }
    const gen = this.gen;
    if (gen === undefined) return;
    const child = gen.child;
    if (child.exitCode === null && child.signalCode === null)
      await new Promise<void>((done) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        child.stdin?.end('quit\n');
      });
    rmSync(gen.dir, { recursive: true, force: true });
  }
}

export type RunnerProcess = CommandRunner & {
  /** The supervisor's pid. */
  readonly pid: number | undefined;
  /** The shells ready now (tests). */
  readonly readyPids: number[];
};

/** Starts the supervisor; resolves once it is ready to take commands. */
export async function startCommandRunner(
  options: CommandRunnerOptions = {},
): Promise<RunnerProcess> {
  const runner = new ShellRunner(options);
  await runner.start();
  return runner;
}
