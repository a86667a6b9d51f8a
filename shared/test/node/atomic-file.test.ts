import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  lstatSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '@knock/shared/node';

const dir = mkdtempSync(join(tmpdir(), 'knock-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (content?: string) => {
  const path = join(dir, `f${n++}`);
  if (content !== undefined) writeFileSync(path, content);
  return path;
};
const leftovers = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('writeFileAtomic', () => {
  it('creates a new file with mode 0600, and replaces an existing one keeping its mode', async () => {
    const created = fresh();
    await writeFileAtomic(created, 'one\n');
    expect(readFileSync(created, 'utf8')).toBe('one\n');
    expect(statSync(created).mode & 0o777).toBe(0o600);

    const existing = fresh('old\n');
    const { chmodSync } = await import('node:fs');
    chmodSync(existing, 0o640);
    await writeFileAtomic(existing, 'new\n');
    expect(readFileSync(existing, 'utf8')).toBe('new\n');
    expect(statSync(existing).mode & 0o777).toBe(0o640);
    expect(leftovers()).toEqual([]);
  });

  it('replaces the target of a symlink and keeps the link', async () => {
    const target = fresh('old');
    const link = join(dir, `link${n++}`);
    symlinkSync(target, link);
    await writeFileAtomic(link, 'new');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('new');
  });

  it('leaves the old file intact and no temp file when it fails before the rename (a crash)', async () => {
    const path = fresh(' 1,2\n 3,4\n');
    await expect(
      writeFileAtomic(path, '#1,2\n 3,4\n', {
        fs: {
          rename: () => Promise.reject(Object.assign(new Error('power cut'), { code: 'EIO' })),
        },
      }),
    ).rejects.toThrow('power cut');
    expect(readFileSync(path, 'utf8')).toBe(' 1,2\n 3,4\n');
    expect(leftovers()).toEqual([]);
  });

  it('never exposes a partly written file: the target is whole before and after', async () => {
    const path = fresh('A'.repeat(100_000));
    let seenDuringWrite = '';
    await writeFileAtomic(path, 'B'.repeat(100_000), {
      fs: {
        rename: async (from, to) => {
          // Just before the rename: the temp file is complete, the target still the old one.
          seenDuringWrite = readFileSync(path, 'utf8');
          expect(readFileSync(from, 'utf8')).toBe('B'.repeat(100_000));
          const { rename } = await import('node:fs/promises');
          await rename(from, to);
        },
      },
    });
    expect(seenDuringWrite).toBe('A'.repeat(100_000));
    expect(readFileSync(path, 'utf8')).toBe('B'.repeat(100_000));
  });

  it('fails with the error of a missing directory', async () => {
    await expect(writeFileAtomic(join(dir, 'no/such/dir/f'), 'x')).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('an error names the file asked for, not the temporary file (issue 9 item 13)', async () => {
    const path = join(dir, 'no/such/dir/k.pid');
    const error = (await writeFileAtomic(path, '1\n').catch(
      (e: unknown) => e,
    )) as NodeJS.ErrnoException;
    expect(error.code).toBe('ENOENT');
    expect(error.message).toBe(`ENOENT: no such file or directory, open '${path}'`);
    expect(error.path).toBe(path);
  });
});

describe('writeFileAtomic on Windows', () => {
  // Windows refuses to open a directory (EISDIR from Node); the directory fsync is Unix's.
  const windowsOpen = (async (path: Parameters<typeof open>[0], ...rest: unknown[]) => {
    if (path === dir)
      throw Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${dir}'`), {
        code: 'EISDIR',
      });
    return open(path, ...(rest as [string, number]));
  }) as typeof open;

  it('writes and renames without opening the directory', async () => {
    const path = fresh('old\n');
    await writeFileAtomic(path, 'new\n', { platform: 'win32', fs: { open: windowsOpen } });
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(leftovers()).toEqual([]);
  });

  it('on Unix the directory is opened and synced (the same open fails there, as it should)', async () => {
    const path = fresh('old\n');
    await expect(
      writeFileAtomic(path, 'new\n', { platform: 'linux', fs: { open: windowsOpen } }),
    ).rejects.toThrow(/EISDIR/);
  });
});
