// What an OPEN SESAME does: the door's start command now, its stop command
// Cmd_Timeout seconds after the start command finished (knockd's order), both through
// the command runner, with knockd's log lines.
//
// Unlike knockd, pending stop commands are tracked here, one per (source, door):
// - A repeated knock by the same source for the same door while its stop is pending
//   does NOT run the start command again: the pending stop is pushed back to
//   Cmd_Timeout from now. Running it again is what stacks duplicate firewall rules
//   (knockd issues #14, #70), which one stop then fails to remove. A door without a
//   stop command runs its start command on every knock, as in knockd.
// - The stop command runs even when the start command failed (knockd does; a half
//   applied start is more safely undone than left).
// - Commands of one (source, door) never overlap: a start waits for a stop still
//   running, so "add rule" cannot race "delete rule".
// - The stop command is expanded when the door opens and kept with the pending entry,
//   keyed by door name: a reload (even one that removes or changes the door) never
//   loses it, and it undoes exactly what the start did.
// - runAllPendingNow() runs every pending stop at once (shutdown): nothing stays open
//   because the daemon stopped.
import { startCommandFor, stopCommandFor, KnockError, type Door } from '@knock/shared';
import type { CommandResult, CommandRunner } from './command-runner.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from './command-runner.js';
import { expandCommand } from './expand.js';

export type ActionLogLevel = 'info' | 'error' | 'debug';

export interface ActionTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock, read at call time (so test fake timers apply). */
export const realTimers: ActionTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface DoorActionsOptions {
  runner: CommandRunner;
  /** Receives knockd's lines (`DOOR: running command: CMD`, …) and our additions. */
  log: (line: string, level?: ActionLogLevel) => void;
  timers?: ActionTimers;
  /** A command still running after this long is killed. Default 60 s. */
  commandTimeoutMs?: number;
  /** Counted here: commands run, failed (of which killed at their timeout). */
  stats?: CommandStats;
}

export interface CommandStats {
  commandsRun: number;
  commandsFailed: number;
  commandsKilled: number;
}

export interface PendingStop {
  door: string;
  src: string;
  family: 4 | 6;
  /** The expanded stop command. */
  command: string;
  /** When it runs (ms, the timers' clock); undefined while the start command still runs. */
  due: number | undefined;
}

interface Entry extends PendingStop {
  key: string;
  delayMs: number;
  timer: unknown;
  cancelled: boolean;
}

/** setTimeout's ceiling (about 24.8 days); longer delays are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class DoorActions {
  private readonly runner: CommandRunner;
  private readonly log: (line: string, level?: ActionLogLevel) => void;
  private readonly timers: ActionTimers;
  private readonly commandTimeoutMs: number;
  private readonly stats: CommandStats | undefined;
  private readonly stops = new Map<string, Entry>();
  /** Per (source, door): the tail of its command chain. */
  private readonly chains = new Map<string, Promise<void>>();
  private shuttingDown = false;

  constructor(options: DoorActionsOptions) {
    this.runner = options.runner;
    this.log = options.log;
    this.timers = options.timers ?? realTimers;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.stats = options.stats;
  }

  /**
   * Door `door` opened for `src`. Resolves when the start command has finished (the
   * stop, if any, is then scheduled). Never rejects: failures are logged.
   */
  open(door: Door, src: string, family: 4 | 6): Promise<void> {
    const startTemplate = startCommandFor(door, family);
    if (startTemplate === undefined) return Promise.resolve();
    if (this.shuttingDown) {
      this.log(`${src}: ${door.name}: shutting down: start command not run`, 'error');
      return Promise.resolve();
    }
    const stopTemplate = stopCommandFor(door, family);
    let start: string;
    let stop: string | undefined;
    try {
      start = expandCommand(startTemplate, src);
    } catch (error) {
      if (!(error instanceof KnockError)) throw error;
      this.log("error: parsed start command has been truncated! --> won't execute it", 'error');
      return Promise.resolve();
    }
    try {
      stop = stopTemplate === undefined ? undefined : expandCommand(stopTemplate, src);
    } catch (error) {
      if (!(error instanceof KnockError)) throw error;
      this.log(
        "error: parsed stop command has been truncated! --> won't execute start command",
        'error',
      );
      return Promise.resolve();
    }

    const key = `${door.name}\n${src}`;
    const delayMs = Math.max(0, door.cmdTimeout) * 1000;
    const pending = this.stops.get(key);
    if (pending !== undefined) {
      // Already open for this source: extend instead of stacking a second start.
      pending.delayMs = delayMs;
      if (pending.due !== undefined) {
        this.arm(pending, this.timers.now() + delayMs);
        this.log(
          `${src}: ${door.name}: already open, start command not run again; stop command postponed by ${door.cmdTimeout} s`,
        );
      } else {
        this.log(`${src}: ${door.name}: already opening, start command not run again`);
      }
      return Promise.resolve();
    }

    if (stop === undefined) {
      return this.enqueue(key, () => this.execute(door.name, start));
    }
    const entry: Entry = {
      key,
      door: door.name,
      src,
      family,
      command: stop,
      due: undefined,
      delayMs,
      timer: undefined,
      cancelled: false,
    };
    this.stops.set(key, entry);
    return this.enqueue(key, async () => {
      await this.execute(door.name, start);
      if (!entry.cancelled) this.arm(entry, this.timers.now() + entry.delayMs);
    });
  }

  /** The stop commands waiting to run. */
  pending(): PendingStop[] {
    return [...this.stops.values()].map(({ door, src, family, command, due }) => ({
      door,
      src,
      family,
      command,
      due,
    }));
  }

  /**
   * Shutdown: runs every pending stop command now (after its start command, if that
   * is still running) and waits for all commands. Later opens run nothing.
   */
  async runAllPendingNow(): Promise<void> {
    this.shuttingDown = true;
    for (const entry of [...this.stops.values()]) {
      this.stops.delete(entry.key);
      entry.cancelled = true;
      if (entry.timer !== undefined) this.timers.clearTimeout(entry.timer);
      entry.timer = undefined;
      this.log(`${entry.src}: ${entry.door}: shutting down: running the stop command now`);
      void this.enqueue(entry.key, () => this.execute(entry.door, entry.command));
    }
    await this.idle();
  }

  /** Resolves when no command is running or queued (timers aside). */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  private arm(entry: Entry, due: number): void {
    if (entry.timer !== undefined) this.timers.clearTimeout(entry.timer);
    entry.due = due;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, due - this.timers.now()));
    entry.timer = this.timers.setTimeout(() => {
      entry.timer = undefined;
      if (entry.cancelled) return;
      if (this.timers.now() < due && wait === MAX_TIMER_MS) {
        this.arm(entry, due);
        return;
      }
      this.stops.delete(entry.key);
      entry.cancelled = true;
      this.log(`${entry.src}: ${entry.door}: command timeout`);
      void this.enqueue(entry.key, () => this.execute(entry.door, entry.command));
    }, wait);
  }

  /** Runs `task` after the previous commands of the same (source, door). */
  private enqueue(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(task).catch((error: unknown) => {
      this.log(
        `internal error while running a command: ${error instanceof Error ? error.message : String(error)}`,
        'error',
      );
    });
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  private async execute(doorName: string, command: string): Promise<void> {
    this.log(`${doorName}: running command: ${command}`);
    if (this.stats) this.stats.commandsRun++;
    let result: CommandResult;
    try {
      result = await this.runner.run(command, { timeoutMs: this.commandTimeoutMs });
    } catch (error) {
      if (this.stats) this.stats.commandsFailed++;
      this.log(
        `${doorName}: command could not run: ${error instanceof Error ? error.message : String(error)}`,
        'error',
      );
      return;
    }
    this.report(doorName, result);
  }

  private report(doorName: string, result: CommandResult): void {
    const stats = this.stats;
    if (
      stats &&
      (result.error !== undefined ||
        result.timedOut ||
        (result.code !== null && result.code !== 0) ||
        result.signal !== null)
    ) {
      stats.commandsFailed++;
      if (result.timedOut) stats.commandsKilled++;
    }
    if (result.error !== undefined) {
      this.log(`${doorName}: command could not run: ${result.error}`, 'error');
    } else if (result.timedOut) {
      this.log(
        `${doorName}: command timed out after ${Math.round(this.commandTimeoutMs / 100) / 10} s and was killed`,
        'error',
      );
    } else if (result.code !== null && result.code !== 0) {
      this.log(`${doorName}: command returned non-zero status code (${result.code})`, 'error');
    } else if (result.signal !== null) {
      this.log(`${doorName}: command was killed by ${result.signal}`, 'error');
    }
    const stderr = result.stderr.trimEnd();
    if (stderr !== '') {
      const level = result.code === 0 ? 'info' : 'error';
      for (const line of stderr.split('\n'))
        this.log(`${doorName}: command stderr: ${line}`, level);
    }
  }
}
