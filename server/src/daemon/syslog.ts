/**
 * `UseSyslog`: messages to the system log, as knockd sends them (ident `knockd`,
 * facility user, priority notice; errors at priority err).
 *
 * Node cannot write to the `/dev/log` datagram socket, so one long-lived util-linux
 * `logger` child reads our lines on stdin and sends one datagram per line. It runs
 * with `--socket-errors=on`, so when syslog goes away the child exits; the sink then
 * reports that once and starts a new child later (backing off to 30 s), keeping a
 * bounded backlog meanwhile. No line of ours ever carries a newline, so every entry
 * is exactly one syslog message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { LogEntry, LogSink, SinkHealth } from './log.js';

export interface SyslogOptions {
  /** Where to report, once, that syslog cannot be reached. */
  warn: (text: string) => void;
  /** The socket (default `/dev/log`): tests point it at their own. */
  socket?: string;
  ident?: string;
  /** The `logger` program (util-linux). */
  program?: string;
  backlog?: number;
}

const NOTICE = 13; // user.notice
const ERR = 11; // user.err
const DEBUG = 15; // user.debug

export class SyslogSink implements LogSink {
  readonly #options: Required<SyslogOptions>;
  #child: ChildProcess | undefined;
  #backlog: string[] = [];
  #down = false;
  #retryMs = 1000;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: SyslogOptions) {
    this.#options = {
      socket: '/dev/log',
      ident: 'knockd',
      program: 'logger',
      backlog: 1000,
      ...options,
    };
    this.#start();
  }

  health(): SinkHealth {
    return {
      destination: `syslog ${this.#options.socket}`,
      ok: !this.#down,
      ...(this.#down ? { problem: 'cannot send to syslog; retrying' } : {}),
    };
  }

  #start(): void {
    if (this.#closed) return;
    const child = spawn(
      this.#options.program,
      [
        '-t',
        this.#options.ident,
        '-p',
        'user.notice',
        '--prio-prefix',
        '--socket-errors=on',
        '-u',
        this.#options.socket,
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 2000) stderr += chunk.toString();
    });
    child.stdin?.on('error', () => {
      // EPIPE when the child has gone: handled by 'exit'/'error' below.
    });
    child.on('error', (error) => this.#failed(child, error.message));
    child.on('exit', (code, signal) => {
      const why = stderr.trim().split('\n').pop() || `logger exited ${code ?? signal}`;
      this.#failed(child, why);
    });
    this.#child = child;
    // Don't keep the daemon alive just for the logger.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    if (this.#backlog.length > 0) {
      const lines = this.#backlog;
      this.#backlog = [];
      for (const line of lines) this.#send(line);
    }
  }

  #failed(child: ChildProcess, reason: string): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    if (this.#closed) return;
    if (!this.#down) {
      this.#down = true;
      this.#options.warn(
        `cannot send to syslog (${this.#options.socket}): ${reason}; knock-server keeps running and retries`,
      );
    }
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#start();
    }, this.#retryMs);
    this.#retryTimer.unref?.();
    this.#retryMs = Math.min(this.#retryMs * 2, 30_000);
  }

  #send(line: string): void {
    const child = this.#child;
    if (child?.stdin && child.stdin.writable) {
      child.stdin.write(line);
      if (this.#down) {
        // A child that took a line and is still alive a moment later means syslog is back.
        setTimeout(() => {
          if (this.#child === child && this.#down) {
            this.#down = false;
            this.#retryMs = 1000;
            this.#options.warn(`syslog (${this.#options.socket}) reachable again`);
          }
        }, 200).unref?.();
      }
    } else {
      this.#backlog.push(line);
      if (this.#backlog.length > this.#options.backlog) this.#backlog.shift();
    }
  }

  write(entry: LogEntry): void {
    if (this.#closed) return;
    const priority = entry.level === 'error' ? ERR : entry.level === 'debug' ? DEBUG : NOTICE;
    this.#send(`<${priority}>${entry.msg.replace(/[\r\n]+/g, ' ')}\n`);
  }

  /** Ends the child after it has sent what it was given. */
  close(): void {
    this.#closed = true;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#child?.stdin?.end();
    this.#child = undefined;
  }

  /** Resolves when the current child has exited (tests, shutdown). */
  async closed(): Promise<void> {
    const child = this.#child;
    this.close();
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  }
}
