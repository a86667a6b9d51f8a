import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileUsedStore, MemoryUsedStore, type UsedKey } from '../../src/rotating/used-store.js';

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'knock-used-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const key = (step: number, family: 4 | 6 = 4): UsedKey => ({
  door: 'ssh',
  secret: 'abcd',
  family,
  step,
});

describe('used-sequence stores', () => {
  it('a sequence is claimed once; entries go once their time has passed', () => {
    let now = 1000;
    const store = new MemoryUsedStore(() => now);
    expect(store.claim(key(1), 5000)).toBe(true);
    expect(store.claim(key(1), 5000)).toBe(false);
    expect(store.claim(key(1, 6), 5000)).toBe(true);
    expect(store.isUsed(key(1))).toBe(true);
    now = 5000;
    expect(store.claim(key(2), 9000)).toBe(true);
    expect(store.isUsed(key(1))).toBe(false);
  });

  it('the file store writes atomically (0600, in a 0700 directory it creates) and reads it back', async () => {
    const dir = join(scratch(), 'state');
    const store = await FileUsedStore.open(dir, { now: () => 0 });
    expect(existsSync(dir)).toBe(false); // nothing written before the first claim
    store.claim(key(7), 99_000);
    store.claim(key(8), 99_000);
    await store.flush();
    expect(statSync(join(dir, 'rotating-used.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const again = await FileUsedStore.open(dir, { now: () => 0 });
    expect(again.isUsed(key(7))).toBe(true);
    expect(again.claim(key(8), 99_000)).toBe(false);
    expect(again.isUsed(key(9))).toBe(false);
  });

  it('a file that cannot be read is moved aside and reported; the daemon goes on', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'rotating-used.json'), '{"version":1,"used":[{"door":');
    const errors: string[] = [];
    const store = await FileUsedStore.open(dir, { onError: (e) => errors.push(e.message) });
    expect(errors[0]).toMatch(/could not be read .* moved to .*rotating-used\.json\.corrupt/);
    expect(readFileSync(join(dir, 'rotating-used.json.corrupt'), 'utf8')).toContain('"door":');
    expect(store.claim(key(1), Date.now() + 60_000)).toBe(true);
  });

  it('a failed write is reported, and the claim still holds in memory', async () => {
    const dir = scratch();
    const errors: string[] = [];
    const store = await FileUsedStore.open(join(dir, 'state'), {
      onError: (e) => errors.push(e.message),
    });
    // The state directory's place is taken by a file: the write cannot happen.
    writeFileSync(join(dir, 'state'), '');
    expect(store.claim(key(1), Date.now() + 60_000)).toBe(true);
    await store.flush();
    expect(errors[0]).toMatch(/cannot save used rotating sequences/);
    expect(store.claim(key(1), Date.now() + 60_000)).toBe(false);
  });
});
