import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, type Profile } from '@knock/shared';
import { backupPath, createProfileStore } from '@knock/shared/node';
import { parseProfiles } from '@knock/shared/profiles';
import { compileShared } from './compiled-shared.js';

const dir = mkdtempSync(join(tmpdir(), 'knock-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (text?: string) => {
  const path = join(dir, `p${n++}`, 'config.toml');
  if (text !== undefined) {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }
  return path;
};

const profile = (host: string, port?: number): Profile => ({
  host,
  sequence: [{ port: 1228, protocol: 'tcp' }],
  family: 'any',
  delayMs: 0,
  ...(port === undefined ? {} : { port }),
});

const HOME = { HOME: '/home/ana' };

describe('createProfileStore', () => {
  const original = `# my profiles (comments stay)

[hosts.lab]   # the lab
sequence = "1228,1227"
port = 22
colour = "blue"   # a key knock does not know
`;

  it('adds a profile without touching the rest, and leaves a backup', async () => {
    const path = file(original);
    chmodSync(path, 0o640);
    const store = createProfileStore(path, { env: HOME });
    const after = await store.update({ type: 'put', original: null, profile: profile('new', 22) });
    expect(readFileSync(path, 'utf8')).toBe(
      `${original}\n[hosts."new"]\nsequence = "1228"\nport = 22\n`,
    );
    expect(readFileSync(backupPath(path), 'utf8')).toBe(original);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(statSync(backupPath(path)).mode & 0o777).toBe(0o600);
    expect(after.profiles.map((p) => p.host)).toEqual(['lab', 'new']);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('creates the file and its directory (0700, file 0600) on the first save', async () => {
    const path = join(dir, 'fresh', 'knock', 'config.toml');
    const store = createProfileStore(path, { env: HOME });
    await store.update({ type: 'put', original: null, profile: profile('h') });
    expect(readFileSync(path, 'utf8')).toBe('[hosts."h"]\nsequence = "1228"\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'fresh', 'knock')).mode & 0o777).toBe(0o700);
    expect(existsSync(backupPath(path))).toBe(false);
  });

  it('keeps a profile another program added since the file was read', async () => {
    const path = file(original);
    const store = createProfileStore(path, { env: HOME });
    const loaded = await store.load();
    const lab = loaded.profiles[0] as Profile;
    // Meanwhile, by hand:
    writeFileSync(path, `${original}\n[hosts.byhand]\nsequence = "7000"\n`);
    const after = await store.update({
      type: 'put',
      original: 'lab',
      profile: { ...lab, port: 2222 },
      previous: lab,
    });
    expect(after.profiles.map((p) => p.host)).toEqual(['lab', 'byhand']);
    expect(readFileSync(path, 'utf8')).toBe(
      `${original.replace('port = 22', 'port = 2222')}\n[hosts.byhand]\nsequence = "7000"\n`,
    );
  });

  it('refuses, writing nothing, when the same profile was changed since it was read', async () => {
    const path = file(original);
    const store = createProfileStore(path, { env: HOME });
    const lab = (await store.load()).profiles[0] as Profile;
    const changed = original.replace('port = 22', 'port = 23');
    writeFileSync(path, changed);
    await expect(
      store.update({ type: 'put', original: 'lab', profile: { ...lab, port: 1 }, previous: lab }),
    ).rejects.toMatchObject({ code: 'profile.edit.changed', exitCode: ExitCode.config });
    expect(readFileSync(path, 'utf8')).toBe(changed);
    expect(existsSync(backupPath(path))).toBe(false);
  });

  it('waits for the lock another writer holds', async () => {
    const path = file(original);
    const store = createProfileStore(path, { env: HOME, lock: { timeoutMs: 200, retryMs: 10 } });
    writeFileSync(`${path}.lock`, `${process.ppid}\n`);
    await expect(
      store.update({ type: 'put', original: null, profile: profile('x') }),
    ).rejects.toMatchObject({ code: 'lock.timeout' });
    expect(readFileSync(path, 'utf8')).toBe(original);
    rmSync(`${path}.lock`);
  });

  it('serialises concurrent saves in one process: none is lost', async () => {
    const path = file(original);
    const store = createProfileStore(path, { env: HOME });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        store.update({ type: 'put', original: null, profile: profile(`h${i}`) }),
      ),
    );
    const { profiles } = parseProfiles(readFileSync(path, 'utf8'));
    expect(profiles.map((p) => p.host).sort()).toEqual(
      ['lab', ...Array.from({ length: 12 }, (_, i) => `h${i}`)].sort(),
    );
  });
});

describe('createProfileStore across processes', () => {
  let outDir = '';
  let cleanup = () => undefined as void;
  beforeAll(async () => {
    ({ outDir, cleanup } = await compileShared());
  }, 180_000);
  afterAll(() => cleanup());

  const child = fileURLToPath(new URL('../fixtures/profile-child.mjs', import.meta.url));

  it('never loses a profile when several processes save at once', async () => {
    const path = file('# shared by four writers\n');
    const writers = 4;
    const each = 6;
    const procs = Array.from({ length: writers }, (_, w) =>
      spawn(process.execPath, [child, outDir, 'add', path, `w${w}`, String(each)], {
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    const output = procs.map((p) => {
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      return {
        ready: new Promise<void>((resolve) => {
          const check = () => (out.includes('ready') ? resolve() : setTimeout(check, 10));
          check();
        }),
        done: new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
          p.on('close', (code) => resolve({ code, out, err })),
        ),
      };
    });
    await Promise.all(output.map((o) => o.ready));
    for (const p of procs) p.stdin.write('go\n');
    const results = await Promise.all(output.map((o) => o.done));
    for (const r of results) expect(r, r.err).toMatchObject({ code: 0 });
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('# shared by four writers\n')).toBe(true);
    const { profiles, issues } = parseProfiles(text);
    expect(issues).toEqual([]);
    expect(profiles).toHaveLength(writers * each);
    for (let w = 0; w < writers; w++)
      for (let i = 0; i < each; i++)
        expect(profiles.find((p) => p.host === `w${w}-${i}`)?.port).toBe(2000 + i);
  }, 60_000);
});
