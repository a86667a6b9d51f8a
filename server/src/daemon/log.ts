/**
 * The daemon's log: knockd's texts and file format, plus JSON lines.
 *
 * Every message goes through one `Logger`, which hands it to its sinks: the log
 * file (knockd's `[YYYY-MM-DD HH:MM] msg` in local time, or one JSON object per
 * line), stdout for `-v`/`-D`, and syslog. knockd ends some formats with an extra
 * `\n` that shows up as blank lines in its log file and as broken lines in syslog;
 * here every entry is exactly one line.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export type LogLevel = 'info' | 'debug' | 'error';

/** Stable names for what happened, the `event` field of JSON lines. */
export type LogEvent =
  | 'start'
  | 'stop'
  | 'stage'
  | 'open'
  | 'timeout'
  | 'command'
  | 'commandFailed'
  | 'commandTimeout'
  | 'reload'
  | 'reloadFailed'
  | 'otsExhausted'
  | 'replayRefused'
  | 'capture'
  | 'addresses'
  | 'pidfile'
  | 'cluster'
  | 'log'
  | 'debug'
  | 'error';

export interface LogEntry {
  level: LogLevel;
  event: LogEvent;
  /** The complete knockd text, e.g. `192.0.2.1: ssh: Stage 1`. */
  msg: string;
  src?: string;
  /**
   * Reverse-DNS name of `src`, when -l found one in time (already part of `msg`); the
   * daemon passes the lookup's answer as it is, undefined when there is none.
   */
  host?: string | undefined;
  door?: string;
  stage?: number;
  /** A rotating door's step (the derived sequence's); undefined for a fixed door. */
  step?: number | undefined;
}

export type LogFormat = 'text' | 'json';

export interface LogSink {
  write(entry: LogEntry, time: Date): void;
  /** Flushes what is buffered and releases the resource. */
  close(): void;
  /** Re-opens files (SIGHUP), so a rotated log file is followed. */
  reopen?(): void;
  /** Whether lines reach their destination now (`knock-server status`). */
  health?(): SinkHealth;
}

export interface SinkHealth {
  /** `file /var/log/knockd.log`, `syslog /dev/log`. */
  destination: string;
  ok: boolean;
  /** Why not, when not ok. */
  problem?: string;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** knockd's timestamp: local time, minute resolution (`[2006-03-15 09:41]`). */
export function knockdTimestamp(time: Date): string {
  return `[${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())} ${pad(time.getHours())}:${pad(time.getMinutes())}]`;
}

let stampMinute = NaN;
let stampText = '';

/** knockdTimestamp, computed once per minute (every line of a flood has the same one). */
function cachedTimestamp(time: Date): string {
  const minute = Math.floor(time.getTime() / 60_000);
  if (minute !== stampMinute) {
    stampMinute = minute;
    stampText = knockdTimestamp(time);
  }
  return stampText;
}

/** One line of the log file, newline included. */
export function formatEntry(entry: LogEntry, time: Date, format: LogFormat): string {
  if (format === 'text') return `${cachedTimestamp(time)} ${entry.msg}\n`;
  return `${jsonLine(entry, time)}\n`;
}

/** `{time, level, event, src, host, door, stage, step, msg}`, absent fields left out. */
export function jsonLine(entry: LogEntry, time: Date): string {
  const record: Record<string, unknown> = {
    time: time.toISOString(),
    level: entry.level,
    event: entry.event,
  };
  if (entry.src !== undefined) record.src = entry.src;
  if (entry.host !== undefined) record.host = entry.host;
  if (entry.door !== undefined) record.door = entry.door;
  if (entry.stage !== undefined) record.stage = entry.stage;
  if (entry.step !== undefined) record.step = entry.step;
  record.msg = entry.msg;
  return JSON.stringify(record);
}

export interface LoggerOptions {
  sinks: LogSink[];
  /** Debug entries are dropped unless -D. */
  debug: boolean;
  now?: () => Date;
}

let nowMs = NaN;
let nowDate = new Date(0);

/**
 * The current time as a Date, one object per millisecond: a flood logs thousands of
 * lines per second, and sinks only read the Date they are given (never keep or change it).
 */
function cachedNow(): Date {
  const ms = Date.now();
  if (ms !== nowMs) {
    nowMs = ms;
    nowDate = new Date(ms);
  }
  return nowDate;
}

export class Logger {
  readonly #sinks: LogSink[];
  readonly #debug: boolean;
  readonly #now: () => Date;

  constructor(options: LoggerOptions) {
    this.#sinks = [...options.sinks];
    this.#debug = options.debug;
    this.#now = options.now ?? cachedNow;
  }

  get debugEnabled(): boolean {
    return this.#debug;
  }

  log(entry: LogEntry): void {
    if (entry.level === 'debug' && !this.#debug) return;
    const time = this.#now();
    for (const sink of this.#sinks) sink.write(entry, time);
  }

  info(event: LogEvent, msg: string, extra: Omit<LogEntry, 'level' | 'event' | 'msg'> = {}): void {
    this.log({ level: 'info', event, msg, ...extra });
  }

  error(event: LogEvent, msg: string, extra: Omit<LogEntry, 'level' | 'event' | 'msg'> = {}): void {
    this.log({ level: 'error', event, msg, ...extra });
  }

  debug(msg: string): void {
    if (this.#debug) this.log({ level: 'debug', event: 'debug', msg });
  }

  addSink(sink: LogSink): void {
    this.#sinks.push(sink);
  }

  reopen(): void {
    for (const sink of this.#sinks) sink.reopen?.();
  }

  /** The health of every destination that can fail (files, syslog). */
  health(): SinkHealth[] {
    return this.#sinks.flatMap((sink) => (sink.health ? [sink.health()] : []));
  }

  close(): void {
    for (const sink of this.#sinks) sink.close();
  }
}

/** A stream sink: -v prints the log texts to stdout, -D adds debug lines. */
export function streamSink(
  write: (text: string) => void,
  options: { format: LogFormat; verbose: boolean },
): LogSink {
  return {
    write(entry, time) {
      if (entry.level !== 'debug' && !options.verbose) return;
      write(options.format === 'json' ? `${jsonLine(entry, time)}\n` : `${entry.msg}\n`);
    },
    close() {},
  };
}

/** The file operations the file sink needs (injected so tests can fail them). */
export interface FileOps {
  open(path: string): number;
  write(fd: number, text: string): void;
  close(fd: number): void;
}

export const nodeFileOps: FileOps = {
  open: (path) => openSync(path, 'a', 0o640),
  write: (fd, text) => {
    const buffer = Buffer.from(text);
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
  },
  close: (fd) => closeSync(fd),
};

export interface FileSinkOptions {
  path: string;
  format: LogFormat;
  /** Where to say, once, that the file cannot be written (stderr, syslog). */
  warn: (text: string) => void;
  ops?: FileOps;
  /** Milliseconds between attempts while the file is failing. */
  retryMs?: number;
  /** Lines kept while the file is failing (newest first kept), written when it works again. */
  backlog?: number;
  clock?: () => number;
}

/**
 * The log file. Lines are buffered for one tick and written together, so a burst of
 * knocks costs one write. A file that cannot be written (disk full, removed
 * directory, read-only mount) never stops the daemon: the failure is reported once,
 * the newest lines are kept (bounded), and the write is retried every `retryMs`
 * until it works again, which is reported too.
 */
export class FileSink implements LogSink {
  readonly #options: Required<Omit<FileSinkOptions, 'ops' | 'clock'>>;
  readonly #ops: FileOps;
  readonly #clock: () => number;
  #fd: number | undefined;
  #pending: string[] = [];
  #scheduled = false;
  #failing: string | undefined;
  #lastAttempt = -Infinity;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #dropped = 0;
  #closed = false;

  constructor(options: FileSinkOptions) {
    this.#options = { retryMs: 1000, backlog: 1000, ...options };
    this.#ops = options.ops ?? nodeFileOps;
    this.#clock = options.clock ?? Date.now;
  }

  /** Opens the file now (startup), so a problem is told at once; later writes retry. */
  openNow(): void {
    try {
      this.#fd = this.#ops.open(this.#options.path);
    } catch (error) {
      this.#lastAttempt = this.#clock();
      this.#reportFailure(error);
    }
  }

  #reportFailure(error: unknown): void {
    if (this.#failing !== undefined) return;
    const reason = error instanceof Error ? error.message : String(error);
    this.#failing = reason;
    this.#options.warn(
      `cannot write log file ${this.#options.path}: ${reason}; knock-server keeps running and retries every ${Math.round(this.#options.retryMs / 1000) || 1} s`,
    );
  }

  health(): SinkHealth {
    return {
      destination: `file ${this.#options.path}`,
      ok: this.#failing === undefined,
      ...(this.#failing !== undefined ? { problem: this.#failing } : {}),
    };
  }

  get failing(): boolean {
    return this.#failing !== undefined;
  }

  write(entry: LogEntry, time: Date): void {
    if (this.#closed) return;
    this.#pending.push(formatEntry(entry, time, this.#options.format));
    // Bounded only while the file fails: a healthy burst is written whole.
    if (this.#failing !== undefined && this.#pending.length > this.#options.backlog) {
      this.#dropped += this.#pending.length - this.#options.backlog;
      this.#pending.splice(0, this.#pending.length - this.#options.backlog);
    }
    if (!this.#scheduled && this.#retryTimer === undefined) {
      this.#scheduled = true;
      // Once per event-loop turn: a burst of packets (one pcap batch) costs one write.
      setImmediate(() => {
        this.#scheduled = false;
        this.flush();
      });
    }
  }

  /** Writes everything pending now (also called at shutdown). */
  flush(): void {
    if (this.#pending.length === 0) return;
    if (this.#failing !== undefined) {
      const wait = this.#lastAttempt + this.#options.retryMs - this.#clock();
      if (wait > 0) {
        this.#armRetry(wait);
        return;
      }
    }
    this.#lastAttempt = this.#clock();
    try {
      if (this.#fd === undefined) this.#fd = this.#ops.open(this.#options.path);
      this.#ops.write(this.#fd, this.#pending.join(''));
      this.#pending = [];
      if (this.#failing !== undefined) {
        const lost = this.#dropped;
        this.#failing = undefined;
        this.#dropped = 0;
        this.#options.warn(
          `log file ${this.#options.path} is writable again` +
            (lost > 0 ? ` (${lost} line${lost === 1 ? '' : 's'} could not be kept)` : ''),
        );
      }
    } catch (error) {
      if (this.#fd !== undefined) {
        try {
          this.#ops.close(this.#fd);
        } catch {
          // already unusable
        }
        this.#fd = undefined;
      }
      this.#reportFailure(error);
      this.#armRetry(this.#options.retryMs);
    }
  }

  #armRetry(ms: number): void {
    if (this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.flush();
    }, ms);
    this.#retryTimer.unref?.();
  }

  reopen(): void {
    this.flush();
    if (this.#fd !== undefined) {
      try {
        this.#ops.close(this.#fd);
      } catch {
        // ignore
      }
      this.#fd = undefined;
    }
  }

  close(): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#closed = true;
    // Last chance, whatever the retry schedule says: one more attempt, no new warning.
    if (this.#pending.length > 0) {
      try {
        if (this.#fd === undefined) this.#fd = this.#ops.open(this.#options.path);
        this.#ops.write(this.#fd, this.#pending.join(''));
      } catch {
        // reported already (or the file was fine until now: nothing left to tell)
      }
      this.#pending = [];
    }
    if (this.#fd !== undefined) {
      try {
        this.#ops.close(this.#fd);
      } catch {
        // ignore
      }
      this.#fd = undefined;
    }
  }
}
