import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  FileSink,
  Logger,
  formatEntry,
  jsonLine,
  knockdTimestamp,
  streamSink,
  type FileOps,
} from '../../src/daemon/log.js';

const at = new Date(2006, 2, 15, 9, 41, 59); // local time, like knockd

describe('knockdTimestamp', () => {
  it('prints local time to the minute, month counted from 1', () => {
    expect(knockdTimestamp(at)).toBe('[2006-03-15 09:41]');
    expect(knockdTimestamp(new Date(2024, 11, 31, 23, 5))).toBe('[2024-12-31 23:05]');
  });
});

describe('formatEntry', () => {
  const entry = {
    level: 'info' as const,
    event: 'stage' as const,
    msg: '192.0.2.1: ssh: Stage 1',
    src: '192.0.2.1',
    door: 'ssh',
    stage: 1,
  };
  it("writes knockd's file line, one line, no stray blank line", () => {
    expect(formatEntry(entry, at, 'text')).toBe('[2006-03-15 09:41] 192.0.2.1: ssh: Stage 1\n');
  });
  it('writes one JSON object per line with the fields of the event', () => {
    const line = formatEntry(entry, at, 'json');
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      time: at.toISOString(),
      level: 'info',
      event: 'stage',
      src: '192.0.2.1',
      door: 'ssh',
      stage: 1,
      msg: '192.0.2.1: ssh: Stage 1',
    });
  });
  it('leaves out the fields an event does not have', () => {
    expect(
      JSON.parse(jsonLine({ level: 'info', event: 'stop', msg: 'shutting down' }, at)),
    ).toEqual({ time: at.toISOString(), level: 'info', event: 'stop', msg: 'shutting down' });
  });
});

describe('Logger', () => {
  it('drops debug entries unless -D, and sends the rest to every sink', () => {
    const a: string[] = [];
    const b: string[] = [];
    const sinkA = { write: (e: { msg: string }) => a.push(e.msg), close: () => undefined };
    const sinkB = { write: (e: { msg: string }) => b.push(e.msg), close: () => undefined };
    const quiet = new Logger({ sinks: [sinkA], debug: false, now: () => at });
    quiet.debug('packet');
    quiet.info('start', 'starting up, listening on eth0');
    expect(a).toEqual(['starting up, listening on eth0']);
    const loud = new Logger({ sinks: [sinkA, sinkB], debug: true, now: () => at });
    loud.debug('packet');
    expect(a.at(-1)).toBe('packet');
    expect(b).toEqual(['packet']);
  });
});

describe('streamSink', () => {
  it('-v prints the log texts without a timestamp; without -v only debug lines', () => {
    const out: string[] = [];
    const verbose = streamSink((t) => out.push(t), { format: 'text', verbose: true });
    verbose.write({ level: 'info', event: 'open', msg: '192.0.2.1: ssh: OPEN SESAME' }, at);
    expect(out).toEqual(['192.0.2.1: ssh: OPEN SESAME\n']);
    const quiet = streamSink((t) => out.push(t), { format: 'text', verbose: false });
    quiet.write({ level: 'info', event: 'open', msg: 'x' }, at);
    quiet.write({ level: 'debug', event: 'debug', msg: 'dbg' }, at);
    expect(out.at(-1)).toBe('dbg\n');
    expect(out).toHaveLength(2);
  });
  it('--log-format json applies to stdout too', () => {
    const out: string[] = [];
    streamSink((t) => out.push(t), { format: 'json', verbose: true }).write(
      { level: 'info', event: 'stop', msg: 'shutting down' },
      at,
    );
    expect(JSON.parse(out[0] ?? '')).toMatchObject({ event: 'stop', msg: 'shutting down' });
  });
});

describe('FileSink', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'knock-log-'));
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  const entry = (msg: string) => ({ level: 'info' as const, event: 'log' as const, msg });

  it('appends lines in order, batched, to the file', async () => {
    const path = join(dir, 'knockd.log');
    const sink = new FileSink({ path, format: 'text', warn: () => undefined });
    sink.write(entry('a'), at);
    sink.write(entry('b'), at);
    await new Promise((r) => setImmediate(r));
    expect(readFileSync(path, 'utf8')).toBe('[2006-03-15 09:41] a\n[2006-03-15 09:41] b\n');
    sink.close();
  });

  it('a log file that cannot be opened at start is told once, and written once it can be', async () => {
    const path = join(dir, 'later', 'knockd.log');
    const warnings: string[] = [];
    const sink = new FileSink({ path, format: 'text', warn: (t) => warnings.push(t), retryMs: 10 });
    sink.openNow();
    sink.write(entry('kept'), at);
    await new Promise((r) => setTimeout(r, 30));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`cannot write log file ${path}: ENOENT`);
    mkdirSync(join(dir, 'later'));
    await new Promise((r) => setTimeout(r, 50));
    expect(readFileSync(path, 'utf8')).toBe('[2006-03-15 09:41] kept\n');
    expect(warnings[1]).toBe(`log file ${path} is writable again`);
    sink.close();
  });

  it('a burst larger than the backlog is written whole when the file is fine', async () => {
    const path = join(dir, 'burst.log');
    const sink = new FileSink({ path, format: 'text', warn: () => undefined, backlog: 2 });
    for (let i = 0; i < 5; i++) sink.write(entry(`l${i}`), at);
    await new Promise((r) => setImmediate(r));
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(5);
    sink.close();
  });

  it('a full disk (/dev/full) is reported once, and the daemon goes on', async () => {
    const warnings: string[] = [];
    const sink = new FileSink({
      path: '/dev/full',
      format: 'text',
      warn: (t) => warnings.push(t),
      retryMs: 10,
    });
    for (let i = 0; i < 20; i++) {
      sink.write(entry(`line ${i}`), at);
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 30));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cannot write log file \/dev\/full: .*ENOSPC/);
    expect(sink.failing).toBe(true);
    sink.close();
  });

  it('retries, writes what it kept once the file works again, and says so', async () => {
    vi.useFakeTimers();
    let full = true;
    const written: string[] = [];
    const ops: FileOps = {
      open: () => 3,
      write: (_fd, text) => {
        if (full)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
            code: 'ENOSPC',
          });
        written.push(text);
      },
      close: () => undefined,
    };
    let now = 0;
    const warnings: string[] = [];
    const sink = new FileSink({
      path: '/var/log/knockd.log',
      format: 'text',
      warn: (t) => warnings.push(t),
      ops,
      retryMs: 1000,
      clock: () => now,
    });
    sink.write(entry('first'), at);
    await vi.advanceTimersByTimeAsync(0);
    sink.write(entry('second'), at);
    await vi.advanceTimersByTimeAsync(0);
    expect(warnings).toHaveLength(1);
    expect(written).toEqual([]);
    full = false;
    now = 1000;
    await vi.advanceTimersByTimeAsync(1000);
    expect(written.join('')).toBe('[2006-03-15 09:41] first\n[2006-03-15 09:41] second\n');
    expect(warnings[1]).toBe('log file /var/log/knockd.log is writable again');
    sink.close();
  });

  it('keeps only the newest lines while failing, and counts the others', async () => {
    vi.useFakeTimers();
    let full = true;
    const written: string[] = [];
    let now = 0;
    const warnings: string[] = [];
    const sink = new FileSink({
      path: 'x.log',
      format: 'text',
      warn: (t) => warnings.push(t),
      ops: {
        open: () => 3,
        write: (_fd, text) => {
          if (full) throw new Error('ENOSPC');
          written.push(text);
        },
        close: () => undefined,
      },
      backlog: 2,
      clock: () => now,
    });
    for (const m of ['1', '2', '3', '4']) {
      sink.write(entry(m), at);
      await vi.advanceTimersByTimeAsync(0);
    }
    full = false;
    now = 5000;
    await vi.advanceTimersByTimeAsync(1000);
    expect(written.join('')).toBe('[2006-03-15 09:41] 3\n[2006-03-15 09:41] 4\n');
    expect(warnings[1]).toBe('log file x.log is writable again (2 lines could not be kept)');
    sink.close();
  });
});
