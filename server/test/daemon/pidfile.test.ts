import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import { daemonAlive, readPidfile, removePidfile, writePidfile } from '../../src/daemon/pidfile.js';

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

  it('really checks liveness: a live knock daemon holds the file', async () => {
    const path = join(dir, 'knockd.pid');
    // A live process whose command line is a knock daemon's (argv[0] knock-server).
    const daemon = spawn('bash', ['-c', 'exec -a knock-server sleep 30'], { stdio: 'ignore' });
    try {
      await new Promise((done) => setTimeout(done, 200));
      writeFileSync(path, `${daemon.pid}\n`);
      expect(() => writePidfile(path, { pid: process.pid + 1_000_000 })).toThrow(/already running/);
    } finally {
      daemon.kill('SIGKILL');
    }
  });

  it('a pid another program got since (pids wrap) does not hold the file: it is replaced', async () => {
    const path = join(dir, 'knockd.pid');
    // A live process that is no knock daemon.
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((done) => setTimeout(done, 200));
      writeFileSync(path, `${other.pid}\n`);
      writePidfile(path, { pid: 4244 });
      expect(readFileSync(path, 'utf8')).toBe('4244\n');
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('daemonAlive: knock in the command line; without /proc, alive is enough', () => {
    const fail = () => {
      throw new Error('ENOENT');
    };
    expect(
      daemonAlive(process.pid, () => 'node\0/usr/lib/knock-server/bin/knock-server.js\0'),
    ).toBe(true);
    expect(daemonAlive(process.pid, () => '/usr/sbin/knockd\0-d\0')).toBe(true);
    expect(daemonAlive(process.pid, () => '/usr/bin/vim\0')).toBe(false);
    expect(daemonAlive(process.pid, () => '')).toBe(false);
    expect(daemonAlive(process.pid, fail)).toBe(true);
    expect(daemonAlive(2 ** 22 + 12345, () => 'knock-server')).toBe(false);
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
