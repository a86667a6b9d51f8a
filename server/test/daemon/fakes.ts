/** Fakes for the daemon's ports: packet source, capture, actions, one-time files, clock, log. */
import { parseConfig, type Door, type Knock, parseSequence } from '@knock/shared';
import type { KnockEvent, PacketSource } from '../../src/capture/packet-source.js';
import { Daemon, type DaemonDeps } from '../../src/daemon/daemon.js';
import { Logger, formatEntry, type LogEntry, type LogFormat } from '../../src/daemon/log.js';
import type {
  ActionsDeps,
  CaptureDeps,
  Clock,
  FilterDoor,
  LocalAddresses,
  OtsFileDeps,
  Timer,
} from '../../src/daemon/deps.js';

export class FakeClock implements Clock {
  time = Date.UTC(2006, 2, 15, 8, 41, 0);
  #timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  now(): number {
    return this.time;
  }
  armed = 0;
  setTimer(fn: () => void, ms: number): Timer {
    this.armed++;
    const timer = { at: this.time + ms, fn, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }
  /** Moves time forward, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const due = this.#timers
        .filter((t) => !t.cancelled && t.at <= end)
        .sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.time = Math.max(this.time, due.at);
      due.cancelled = true;
      due.fn();
      await flush();
    }
    this.time = end;
    await flush();
  }
}

export const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

export class FakeSource implements PacketSource {
  filters: string[] = [];
  closed = false;
  #onEvent: ((e: KnockEvent) => void) | undefined;
  #onError: ((e: Error) => void) | undefined;
  constructor(filter: string) {
    this.filters.push(filter);
  }
  start(onEvent: (e: KnockEvent) => void, onError: (e: Error) => void): void {
    this.#onEvent = onEvent;
    this.#onError = onError;
  }
  setFilter(filter: string): void {
    this.filters.push(filter);
  }
  stats() {
    return { received: 0, dropped: 0 };
  }
  close(): void {
    this.closed = true;
  }
  emit(event: KnockEvent): void {
    if (this.closed) throw new Error('emit on a closed source');
    this.#onEvent?.(event);
  }
  fail(error: Error): void {
    this.#onError?.(error);
  }
}

/** Like libpcap's source: one handle per interface, failed ones reopened in place. */
export class FakeReopenableSource extends FakeSource {
  failed: string[] = [];
  reopenErrors: Error[] = [];
  reopens = 0;
  reopen(): Promise<void> {
    this.reopens++;
    const error = this.reopenErrors.shift();
    if (error) return Promise.reject(error);
    this.failed = [];
    return Promise.resolve();
  }
  failInterface(name: string, error: Error): void {
    this.failed.push(name);
    this.fail(error);
  }
}

/** A readable filter: which ports of which doors, to which addresses. */
export function fakeFilter(
  doors: FilterDoor[],
  local: LocalAddresses,
  opts: { ipv4Only: boolean },
): string {
  const dst = [...local.v4, ...(opts.ipv4Only ? [] : local.v6)].join('|');
  if (dst === '' && doors.some((d) => d.target === undefined))
    throw new Error('no local address to watch for knocks');
  return doors
    .map((d) => `${d.target ?? dst}:${d.knocks.map((k) => `${k.port}/${k.protocol}`).join(',')}`)
    .join(' ; ');
}

export class FakeCapture implements CaptureDeps {
  sources: FakeSource[] = [];
  local: { v4: string[]; v6: string[] } = { v4: ['192.0.2.2'], v6: ['2001:db8::2'] };
  /** Errors the next open() calls throw, in order. */
  openErrors: Error[] = [];
  onAddressChange: (() => void) | undefined;
  watching = false;
  opens: { interfaces: string[]; filter: string }[] = [];
  /** Open FakeReopenableSource instead of FakeSource. */
  reopenable = false;
  /** Set by a test that watches memory being given back. */
  releaseMemory?: () => void;
  buildFilter = fakeFilter;
  open(options: { interfaces: string[]; filter: string }): Promise<PacketSource> {
    this.opens.push(options);
    const error = this.openErrors.shift();
    if (error) return Promise.reject(error);
    const source = this.reopenable
      ? new FakeReopenableSource(options.filter)
      : new FakeSource(options.filter);
    this.sources.push(source);
    return Promise.resolve(source);
  }
  localAddresses(): LocalAddresses {
    return { v4: [...this.local.v4], v6: [...this.local.v6] };
  }
  watchAddresses(_interfaces: string[], onChange: () => void): () => void {
    this.onAddressChange = onChange;
    this.watching = true;
    return () => void (this.watching = false);
  }
  get source(): FakeSource {
    const s = this.sources.at(-1);
    if (!s) throw new Error('no source opened');
    return s;
  }
}

export class FakeActions implements ActionsDeps {
  opened: { door: string; src: string; family: 4 | 6; command?: string }[] = [];
  pendingRunCount = 0;
  closed = false;
  events: string[] = [];
  open(door: Door, src: string, family: 4 | 6): void {
    this.opened.push({
      door: door.name,
      src,
      family,
      ...(door.startCommand ? { command: door.startCommand } : {}),
    });
  }
  runAllPendingNow(): Promise<void> {
    this.pendingRunCount++;
    this.events.push('runAllPendingNow');
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    this.events.push('close');
    return Promise.resolve();
  }
}

/** One-time-sequence files held in memory: path → lines (used lines start with #). */
export class FakeOts implements OtsFileDeps {
  files = new Map<string, string[]>();
  consumed: string[] = [];
  delayMs = 0;
  #current(path: string): Knock[] | undefined {
    const line = this.files.get(path)?.find((l) => !l.startsWith('#'));
    return line === undefined ? undefined : parseSequence(line).knocks;
  }
  read(path: string) {
    if (!this.files.has(path)) return Promise.reject(new Error('ENOENT: no such file'));
    const lines = this.files.get(path) ?? [];
    const current = this.#current(path);
    return Promise.resolve({
      ...(current ? { current } : {}),
      remaining: lines.filter((l) => !l.startsWith('#')).length,
      issues: [],
    });
  }
  async consume(path: string, knocks: readonly Knock[]) {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const lines = this.files.get(path) ?? [];
    const text = knocks
      .map((k) => (k.protocol === 'udp' ? `${k.port}:udp` : String(k.port)))
      .join(',');
    const i = lines.indexOf(text);
    if (i >= 0) lines[i] = `#${text}`;
    this.consumed.push(text);
    const next = this.#current(path);
    return { ...(next ? { next } : {}), remaining: lines.filter((l) => !l.startsWith('#')).length };
  }
}

export class MemoryLog {
  entries: LogEntry[] = [];
  readonly date = new Date(2006, 2, 15, 9, 41);
  logger(options: { debug?: boolean } = {}): Logger {
    return new Logger({
      sinks: [{ write: (e) => this.entries.push(e), close: () => undefined }],
      debug: options.debug ?? false,
      now: () => this.date,
    });
  }
  /** The log file as knockd's format would have it. */
  file(format: LogFormat = 'text'): string {
    return this.entries
      .filter((e) => e.level !== 'debug')
      .map((e) => formatEntry(e, this.date, format))
      .join('');
  }
  get messages(): string[] {
    return this.entries.filter((e) => e.level !== 'debug').map((e) => e.msg);
  }
}

let seq = 1000;
export function knock(
  clock: FakeClock,
  src: string,
  port: number,
  options: Partial<KnockEvent> = {},
): KnockEvent {
  const family = src.includes(':') ? 6 : 4;
  return {
    time: clock.now(),
    family,
    src,
    dst: family === 6 ? '2001:db8::2' : '192.0.2.2',
    protocol: 'tcp',
    srcPort: 40000 + (seq % 1000),
    dstPort: port,
    flags: 0x02,
    seq: seq++,
    ...options,
  };
}

export function config(text: string) {
  const parsed = parseConfig(text, '/etc/knockd.conf');
  const errors = parsed.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new Error(`test config has errors: ${JSON.stringify(errors)}`);
  return parsed.config;
}

/**
 * A Daemon over these fakes, as the daemon's tests use it: `text` is its config, and what a
 * reload reads until `setConfig`; `extra` replaces any dependency (a store, a lookup…).
 */
export function fakeDaemon(text: string, extra: Partial<DaemonDeps> = {}, clock = new FakeClock()) {
  const capture = new FakeCapture();
  const actions = new FakeActions();
  const ots = new FakeOts();
  const memory = new MemoryLog();
  const log = memory.logger();
  let current = text;
  const daemon = new Daemon({
    configPath: '/etc/knockd.conf',
    config: config(text),
    loadConfig: (path) => Promise.resolve(parseConfig(current, path)),
    interfaces: ['vs0'],
    ipv4Only: false,
    maxAttempts: 1000,
    capture,
    actions,
    ots,
    log,
    clock,
    ...extra,
  });
  return {
    daemon,
    clock,
    capture,
    actions,
    ots,
    memory,
    log,
    setConfig: (t: string) => void (current = t),
    /** Knocks from `src` on each port, in order, at the clock's time. */
    send: (src: string, ...ports: number[]) => {
      for (const port of ports) capture.source.emit(knock(clock, src, port));
    },
  };
}
