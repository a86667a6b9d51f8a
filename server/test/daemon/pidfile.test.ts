import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import {
  ownsPidfile,
  processStartedAt,
  readPidfile,
  removePidfile,
  writePidfile,
} from '../../src/daemon/pidfile.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'knock-pid-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writePidfile', () => {
  it('writes "<pid>\\n" as knockd does', () => {
    const path = join(dir, 'knockd.pid');
    writePidfile(path, { pid: 4242, alive: () => false });
    expect(readFileSync(path, 'utf8')).toBe('4242\n');
  });

  it('refuses to start over a live process, naming the file and the pid', () => {
    const path = join(dir, 'knockd.pid');
    writeFileSync(path, '777\n');
    let caught: unknown;
    try {
      writePidfile(path, { pid: 4242, alive: (pid) => pid === 777 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KnockError);
    const error = caught as KnockError;
    expect(error.exitCode).toBe(ExitCode.alreadyRunning);
    expect(error.message).toContain(path);
    expect(error.message).toContain('777');
    expect(readFileSync(path, 'utf8')).toBe('777\n');
  });

  it('really checks liveness: a live process that started before the file holds it', async () => {
    const path = join(dir, 'knockd.pid');
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((done) => setTimeout(done, 200));
      writeFileSync(path, `${other.pid}\n`);
      expect(() => writePidfile(path, { pid: process.pid + 1_000_000 })).toThrow(/already running/);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('a pid another process got since the file was written (pids wrap): the file is replaced', async () => {
    const path = join(dir, 'knockd.pid');
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((done) => setTimeout(done, 200));
      writeFileSync(path, `${other.pid}\n`);
      // Written an hour ago, by a daemon that crashed: this process started long after.
      const hourAgo = new Date(Date.now() - 3_600_000);
      utimesSync(path, hourAgo, hourAgo);
      writePidfile(path, { pid: 4244 });
      expect(readFileSync(path, 'utf8')).toBe('4244\n');
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('processStartedAt: this process, from /proc, to about a second', () => {
    const started = processStartedAt(process.pid);
    expect(started).toBeDefined();
    expect(Math.abs(started! - (Date.now() - process.uptime() * 1000))).toBeLessThan(1500);
    // A comm with spaces and parentheses does not shift the fields.
    const stat = '42 (a) b (c) S ' + '0 '.repeat(18) + '12345 0 0\n';
    expect(processStartedAt(42, (p) => (p === '/proc/stat' ? 'cpu 1\nbtime 1000\n' : stat))).toBe(
      1000 * 1000 + 12345 * 10,
    );
    expect(
      processStartedAt(42, () => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });

  it('ownsPidfile: alive and not started after the file; where that cannot be told, alive', () => {
    expect(ownsPidfile(process.pid, Date.now())).toBe(true);
    // Started after the file, and its command line names no knock: a reused pid.
    const notKnock = (p: string) =>
      p.endsWith('/cmdline') ? 'sleep\x0030\x00' : readFileSync(p, 'latin1');
    const longBefore = Date.now() - process.uptime() * 1000 - 60_000;
    expect(ownsPidfile(process.pid, longBefore, notKnock)).toBe(false);
    expect(ownsPidfile(process.pid, undefined)).toBe(true);
    const noProc = () => {
      throw new Error('ENOENT');
    };
    expect(ownsPidfile(process.pid, 0, noProc)).toBe(true);
    expect(ownsPidfile(2 ** 22 + 12345, Date.now())).toBe(false);
  });

  it('ownsPidfile: a process started after the file that names knock still owns it (a clock stepped forward)', async () => {
    const daemon = spawn('bash', ['-c', 'exec -a knock-server sleep 30'], { stdio: 'ignore' });
    try {
      await new Promise((done) => setTimeout(done, 200));
      expect(ownsPidfile(daemon.pid!, Date.now() - 3_600_000)).toBe(true);
    } finally {
      daemon.kill('SIGKILL');
    }
  });

  it('replaces a stale pidfile (dead pid, or garbage)', () => {
    const path = join(dir, 'knockd.pid');
    writeFileSync(path, '777\n');
    writePidfile(path, { pid: 4242, alive: () => false });
    expect(readFileSync(path, 'utf8')).toBe('4242\n');
    writeFileSync(path, 'not a pid');
    writePidfile(path, { pid: 4243, alive: () => true });
    expect(readFileSync(path, 'utf8')).toBe('4243\n');
  });

  it('says what to do when the directory does not exist', () => {
    const path = join(dir, 'missing', 'knockd.pid');
    expect(() => writePidfile(path, { pid: 1 })).toThrow(/could not create pid file .*missing/);
  });
});

describe('removePidfile', () => {
  it('removes our own pidfile, but not one another process took over', () => {
    const path = join(dir, 'knockd.pid');
    writeFileSync(path, '10\n');
    removePidfile(path, 11);
    expect(existsSync(path)).toBe(true);
    removePidfile(path, 10);
    expect(existsSync(path)).toBe(false);
    expect(readPidfile(path)).toBeUndefined();
  });
});
