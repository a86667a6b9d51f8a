import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import { readPidfile, removePidfile, writePidfile } from '../../src/daemon/pidfile.js';

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

  it('really checks liveness: our own test process counts as alive', () => {
    const path = join(dir, 'knockd.pid');
    writeFileSync(path, `${process.pid}\n`);
    expect(() => writePidfile(path, { pid: process.pid + 1_000_000 })).toThrow(/already running/);
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
