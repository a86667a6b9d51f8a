import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import { withFileLock } from '@knock/shared/node';

const dir = mkdtempSync(join(tmpdir(), 'knock-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `f${n++}`);
/** What a lock file written by this process holds: our pid, then when we started. */
const ours = new RegExp(`^${process.pid}\\nstarted \\d+\\n$`);

/** A pid that surely belongs to no process: one that just exited. */
const deadPid = (): number => {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
};

describe('withFileLock', () => {
  it('holds PATH.lock with our pid while fn runs, and removes it after', async () => {
    const path = fresh();
    const result = await withFileLock(path, async () => {
      expect(readFileSync(`${path}.lock`, 'utf8')).toMatch(ours);
      return 42;
    });
    expect(result).toBe(42);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('removes the lock when fn throws, and passes the error on', async () => {
    const path = fresh();
    await expect(withFileLock(path, () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('runs concurrent callers one at a time', async () => {
    const path = fresh();
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        withFileLock(path, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 2));
          order.push(i);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(order.sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
  });

  it('takes over a stale lock left by a dead process', async () => {
    const path = fresh();
    writeFileSync(`${path}.lock`, `${deadPid()}\n`);
    const started = Date.now();
    await withFileLock(path, async () => {
      expect(readFileSync(`${path}.lock`, 'utf8')).toMatch(ours);
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('takes over a lock with our own pid that no caller here holds (pid reuse)', async () => {
    const path = fresh();
    writeFileSync(`${path}.lock`, `${process.pid}\n`);
    await expect(withFileLock(path, async () => 'ok', { timeoutMs: 1000 })).resolves.toBe('ok');
  });

  it('waits for a lock that this very process holds instead of taking it over', async () => {
    const path = fresh();
    // What withFileLock writes, as another copy of this module (or a worker) would.
    const own = await withFileLock(path, async () => readFileSync(`${path}.lock`, 'utf8'));
    writeFileSync(`${path}.lock`, own);
    const notices: unknown[] = [];
    const error = await withFileLock(path, async () => 'never', {
      timeoutMs: 600,
      waitNoticeMs: 200,
      onWait: (holder) => notices.push(holder),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'lock.timeout' });
    expect((error as KnockError).message).toContain(`by process ${process.pid} (this one)`);
    expect(notices).toEqual([{ pid: process.pid, lockPath: `${path}.lock` }]);
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(own);
  });

  it('takes over a lock with our pid but another start time (an earlier process with our pid)', async () => {
    const path = fresh();
    writeFileSync(`${path}.lock`, `${process.pid}\nstarted 1000\n`);
    await expect(withFileLock(path, async () => 'ok', { timeoutMs: 1000 })).resolves.toBe('ok');
  });

  it('is one lock for every spelling of a file and for a symlink to it', async () => {
    const sub = join(dir, `spell${n++}`);
    mkdirSync(join(sub, 'x'), { recursive: true });
    const real = join(sub, 'b.ots');
    writeFileSync(real, '');
    symlinkSync(real, join(sub, 'link.ots'));
    const spellings = [
      real,
      join(sub, 'link.ots'),
      `${sub}//b.ots`,
      `${sub}/x/../b.ots`,
      `${sub}/./link.ots`,
    ];
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        withFileLock(spellings[i % spellings.length] ?? real, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 2));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    // The lock file is next to the real file, whatever name was used.
    await withFileLock(join(sub, 'link.ots'), async () => {
      expect(existsSync(`${real}.lock`)).toBe(true);
      expect(existsSync(join(sub, 'link.ots.lock'))).toBe(false);
    });
  });

  it('says once, after waitNoticeMs, which process holds the lock', async () => {
    const path = fresh();
    writeFileSync(`${path}.lock`, '1\n');
    const notices: unknown[] = [];
    const started = Date.now();
    await withFileLock(path, async () => 'never', {
      timeoutMs: 700,
      waitNoticeMs: 300,
      onWait: (holder) => notices.push({ ...holder, afterMs: Date.now() - started }),
    }).catch(() => undefined);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ pid: 1, lockPath: `${path}.lock` });
    expect((notices[0] as { afterMs: number }).afterMs).toBeGreaterThanOrEqual(290);
  });

  it('waits for a live holder, then gives up with a KnockError naming it', async () => {
    const path = fresh();
    // pid 1 is always alive.
    writeFileSync(`${path}.lock`, '1\n');
    const started = Date.now();
    const error = await withFileLock(path, async () => 'never', { timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(error).toBeInstanceOf(KnockError);
    expect(error).toMatchObject({ code: 'lock.timeout', exitCode: ExitCode.otsFile });
    expect((error as KnockError).message).toContain('locked by process 1');
    expect((error as KnockError).hint).toContain(`${path}.lock`);
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe('1\n');
  });

  it('reports a lock that cannot be created', async () => {
    await expect(withFileLock(join(dir, 'missing/f'), async () => 1)).rejects.toMatchObject({
      code: 'lock.create',
      exitCode: ExitCode.otsFile,
    });
  });
});
