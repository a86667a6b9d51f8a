import { spawn, type ChildProcess } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ExitCode,
  formatSequence,
  generateOts,
  KnockError,
  parseOtsFile,
  type Knock,
} from '@knock/shared';
import {
  consumeOneTimeSequence,
  expandHome,
  readOneTimeSequences,
  resolveOtsPath,
  takeOneTimeSequence,
} from '@knock/shared/node';
import { childScript, compileShared } from './compiled-shared.js';

const dir = mkdtempSync(join(tmpdir(), 'knock-ots-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;
const fresh = (content: string) => {
  const path = join(dir, `s${n++}.ots`);
  writeFileSync(path, content);
  return path;
};
const tcp = (port: number): Knock => ({ port, protocol: 'tcp' });
const udp = (port: number): Knock => ({ port, protocol: 'udp' });

describe('takeOneTimeSequence', () => {
  it('hands the current sequence to use(), then marks it used in the file', async () => {
    const path = fresh('# keys\n 7001:udp,7002\n 7003,7004\n');
    const sent: Knock[][] = [];
    const result = await takeOneTimeSequence(path, async (knocks) => {
      sent.push(knocks);
      // Not yet consumed while the knock is being sent.
      expect(readFileSync(path, 'utf8')).toBe('# keys\n 7001:udp,7002\n 7003,7004\n');
    });
    expect(sent).toEqual([[udp(7001), tcp(7002)]]);
    expect(result).toEqual({ used: [udp(7001), tcp(7002)], remaining: 1 });
    expect(readFileSync(path, 'utf8')).toBe('# keys\n#7001:udp,7002\n 7003,7004\n');
  });

  it('consumes nothing when use() throws', async () => {
    const path = fresh(' 1,2\n 3,4\n');
    await expect(
      takeOneTimeSequence(path, () => Promise.reject(new Error('network is unreachable'))),
    ).rejects.toThrow('network is unreachable');
    expect(readFileSync(path, 'utf8')).toBe(' 1,2\n 3,4\n');
  });

  it('consumes nothing when the write fails before the rename (a crash)', async () => {
    const path = fresh(' 1,2\n 3,4\n');
    await expect(
      takeOneTimeSequence(path, async () => {}, {
        fs: { rename: () => Promise.reject(new Error('disk full')) },
      }),
    ).rejects.toThrow('disk full');
    expect(readFileSync(path, 'utf8')).toBe(' 1,2\n 3,4\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
  });

  it('a failed write after the knock: exit 9, says what to do, no temporary file name', async () => {
    const path = fresh(' 1,2\n 3,4\n');
    const error = await takeOneTimeSequence(path, async () => {}, {
      fs: {
        open: () =>
          Promise.reject(
            Object.assign(
              new Error(`EROFS: read-only file system, open '${dir}/.s.ots.1.ab.tmp'`),
              {
                code: 'EROFS',
              },
            ),
          ),
      },
    }).catch((e: unknown) => e as KnockError);
    expect(error).toMatchObject({ code: 'ots.write', exitCode: ExitCode.otsFile });
    expect((error as KnockError).message).toBe(
      `knocked, but could not mark the sequence of line 1 used in ${path}: read-only file system`,
    );
    expect((error as KnockError).hint).toContain('comment line 1 out with #');
    expect(readFileSync(path, 'utf8')).toBe(' 1,2\n 3,4\n');
  });

  it('fails with otsExhausted when no sequence is left, and otsFile when the file is missing', async () => {
    const used = fresh('#1\n#2\n');
    await expect(takeOneTimeSequence(used, async () => {})).rejects.toMatchObject({
      code: 'ots.exhausted',
      exitCode: ExitCode.otsExhausted,
    });
    const missing = join(dir, 'missing.ots');
    const error = await takeOneTimeSequence(missing, async () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KnockError);
    expect(error).toMatchObject({ code: 'ots.unreadable', exitCode: ExitCode.otsFile });
    expect((error as KnockError).message).toContain(missing);
  });

  it('refuses a file with a malformed line before anything is sent, naming file:line:col', async () => {
    const path = fresh(' 1228,abc\n');
    const sent: Knock[][] = [];
    const error = await takeOneTimeSequence(path, async (k) => {
      sent.push(k);
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ots.invalid', exitCode: ExitCode.otsFile });
    expect((error as KnockError).message).toContain(`${path}:1:7: error:`);
    expect((error as KnockError).message).not.toContain('no unused sequence');
    expect(sent).toEqual([]);
    // Also when a good line comes first: which line is current would be a guess.
    const mixed = fresh(' 1,2\n 3,x\n 5,6\n 7:icmp\n');
    const both = await takeOneTimeSequence(mixed, async (k) => {
      sent.push(k);
    }).catch((e: unknown) => e as KnockError);
    expect(both).toMatchObject({ code: 'ots.invalid' });
    expect((both as KnockError).message).toMatch(/:2:\d+: error:[^]*:4:\d+: error:/);
    expect(sent).toEqual([]);
    expect(readFileSync(mixed, 'utf8')).toBe(' 1,2\n 3,x\n 5,6\n 7:icmp\n');
  });

  it("reads a relative path from the profile file's folder, and names it as written", async () => {
    const profiles = join(dir, `conf${n++}`);
    mkdirSync(profiles);
    writeFileSync(join(profiles, 'vpn.ots'), ' 1,2\n');
    const relativeTo = join(profiles, 'config.toml');
    expect(resolveOtsPath('vpn.ots', { relativeTo })).toBe(join(profiles, 'vpn.ots'));
    expect(resolveOtsPath('~/a.ots', { relativeTo, home: '/h' })).toBe('/h/a.ots');
    expect(resolveOtsPath('/abs/a.ots', { relativeTo })).toBe('/abs/a.ots');
    const taken = await takeOneTimeSequence('vpn.ots', async () => {}, { relativeTo });
    expect(taken.used).toEqual([tcp(1), tcp(2)]);
    expect(readFileSync(join(profiles, 'vpn.ots'), 'utf8')).toBe('#1,2\n');
    const used = await takeOneTimeSequence('vpn.ots', async () => {}, { relativeTo }).catch(
      (e: unknown) => e as KnockError,
    );
    expect(used).toMatchObject({ code: 'ots.exhausted' });
    expect((used as KnockError).message).toBe(
      `no unused sequence left in the one-time-sequence file vpn.ots (looked at ${join(profiles, 'vpn.ots')})`,
    );
    const missing = await takeOneTimeSequence('nope.ots', async () => {}, { relativeTo }).catch(
      (e: unknown) => e as KnockError,
    );
    expect((missing as KnockError).message).toMatch(/^one-time-sequence file nope\.ots does not/);
    expect((missing as KnockError).hint).toContain("profile file's folder");
  });

  it('marks a line by changing one byte of the file: Latin-1 comments and a BOM stay', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('# cl'),
      Buffer.from([0xe9]),
      Buffer.from('\n 1,2\n 3\n'),
    ]);
    const path = join(dir, `bytes${n++}.ots`);
    writeFileSync(path, bytes);
    await takeOneTimeSequence(path, async () => {});
    const after = readFileSync(path);
    expect(after).toHaveLength(bytes.length);
    const changed = [...bytes.keys()].filter((i) => bytes[i] !== after[i]);
    expect(changed).toEqual([bytes.indexOf('\n 1,2') + 1]);
    await consumeOneTimeSequence(path, [tcp(3)]);
    const last = readFileSync(path);
    expect([...after.keys()].filter((i) => after[i] !== last[i])).toEqual([
      after.indexOf('\n 3') + 1,
    ]);
  });

  it('gives many concurrent callers in one process distinct sequences, in file order', async () => {
    const path = fresh(generateOts({ count: 25, length: 3 }));
    const expected = parseOtsFile(readFileSync(path, 'utf8')).entries.map((e) =>
      formatSequence(e.knocks),
    );
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => takeOneTimeSequence(path, async () => {})),
    );
    const taken = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason as KnockError] : [],
    );
    expect(taken.map((r) => formatSequence(r.used))).toEqual(expected);
    expect(taken.map((r) => r.remaining)).toEqual([...Array(25).keys()].reverse());
    expect(failed.map((e) => e.code)).toEqual(Array(5).fill('ots.exhausted'));
  });
});

describe('consumeOneTimeSequence', () => {
  it('marks the line holding the sequence used and returns the next one', async () => {
    const path = fresh(' 1,2\n 3:udp\n 5\n');
    expect(await consumeOneTimeSequence(path, [tcp(1), tcp(2)])).toEqual({
      next: [udp(3)],
      remaining: 2,
    });
    expect(readFileSync(path, 'utf8')).toBe('#1,2\n 3:udp\n 5\n');
    expect(await consumeOneTimeSequence(path, [udp(3)])).toEqual({ next: [tcp(5)], remaining: 1 });
    expect(await consumeOneTimeSequence(path, [tcp(5)])).toEqual({
      next: undefined,
      remaining: 0,
    });
    expect(readFileSync(path, 'utf8')).toBe('#1,2\n#3:udp\n#5\n');
  });

  it('leaves the file alone when no unused line holds the sequence', async () => {
    const path = fresh('#1,2\n 3\n');
    expect(await consumeOneTimeSequence(path, [tcp(1), tcp(2)])).toEqual({
      next: [tcp(3)],
      remaining: 1,
    });
    expect(readFileSync(path, 'utf8')).toBe('#1,2\n 3\n');
  });
});

describe('readOneTimeSequences', () => {
  it('returns the current sequence, the count left and the problems', async () => {
    const path = fresh('#1\n 2:icmp\n 3,4\n 5\n');
    const read = await readOneTimeSequences(path);
    expect(read.current).toEqual([tcp(3), tcp(4)]);
    expect(read.remaining).toBe(2);
    expect(read.issues).toMatchObject([{ code: 'ots.sequence.protocol', line: 2, file: path }]);
    await expect(readOneTimeSequences(join(dir, 'nope.ots'))).rejects.toMatchObject({
      exitCode: ExitCode.otsFile,
    });
  });
});

describe('expandHome', () => {
  it('expands a leading ~ only', () => {
    expect(expandHome('~/k/a.ots', '/home/u')).toBe('/home/u/k/a.ots');
    expect(expandHome('~', '/home/u')).toBe('/home/u');
    expect(expandHome('/etc/~x', '/home/u')).toBe('/etc/~x');
    expect(expandHome('~other/x', '/home/u')).toBe('~other/x');
  });
});

// ------------------------------------------------------------------------------------------
// Separate processes: the compiled module in child `node` processes.

describe('one-time-sequence files across processes', () => {
  let outDir = '';
  let cleanup = () => {};
  beforeAll(async () => {
    ({ outDir, cleanup } = await compileShared());
  }, 120_000);
  afterAll(() => cleanup());

  function run(args: string[]): {
    child: ChildProcess;
    done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  } {
    const child = spawn(process.execPath, [childScript, outDir, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('close', (code) => {
        children.delete(child);
        resolve({ code, stdout, stderr });
      }),
    );
    return { child, done };
  }
  const output = (child: ChildProcess, text: string) =>
    new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`child never printed ${text}`)), 20_000);
      child.stdout?.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes(text)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });

  it('never gives the same sequence to two consumers (4 processes and this one at once)', async () => {
    const count = 60;
    const path = fresh(generateOts({ count, length: 2 }));
    const expected = parseOtsFile(readFileSync(path, 'utf8')).entries.map((e) =>
      formatSequence(e.knocks),
    );
    const processes = Array.from({ length: 4 }, () => run(['take', path, String(count)]));
    await Promise.all(processes.map((p) => output(p.child, 'ready')));
    for (const p of processes) p.child.stdin?.end('go\n');
    const here: string[] = [];
    for (let i = 0; i < count; i++) {
      try {
        const taken = await takeOneTimeSequence(path, () => new Promise((r) => setTimeout(r, 1)));
        here.push(formatSequence(taken.used));
        await new Promise((r) => setTimeout(r, Math.random() * 10));
      } catch (error) {
        if ((error as KnockError).code === 'ots.exhausted') break;
        throw error;
      }
    }
    const results = await Promise.all(processes.map((p) => p.done));
    const all = [...here];
    const counts = [here.length];
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      const taken = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as string[];
      counts.push(taken.length);
      // Each consumer sees the sequences in file order.
      expect(taken).toEqual(expected.filter((s) => taken.includes(s)));
      all.push(...taken);
    }
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort()).toEqual([...expected].sort());
    // They really ran at the same time: more than one consumer got sequences.
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1);
    expect(parseOtsFile(readFileSync(path, 'utf8')).entries).toEqual([]);
  }, 60_000);

  it('hands out each sequence once to 10 processes on the file and 10 on a symlink or another spelling', async () => {
    const count = 120;
    const sub = join(dir, `multi${n++}`);
    mkdirSync(join(sub, 'x'), { recursive: true });
    const path = join(sub, 'b.ots');
    writeFileSync(path, generateOts({ count, length: 2 }));
    symlinkSync(path, join(sub, 'link.ots'));
    const expected = parseOtsFile(readFileSync(path, 'utf8')).entries.map((e) =>
      formatSequence(e.knocks),
    );
    const others = [join(sub, 'link.ots'), `${sub}//b.ots`, `${sub}/x/../b.ots`];
    const processes = Array.from({ length: 20 }, (_, i) =>
      run(['take', i < 10 ? path : (others[i % others.length] ?? path), String(count)]),
    );
    await Promise.all(processes.map((p) => output(p.child, 'ready')));
    for (const p of processes) p.child.stdin?.end('go\n');
    const results = await Promise.all(processes.map((p) => p.done));
    const all: string[] = [];
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      all.push(...(JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as string[]));
    }
    expect(all.length - new Set(all).size).toBe(0);
    expect([...all].sort()).toEqual([...expected].sort());
    expect(parseOtsFile(readFileSync(path, 'utf8')).entries).toEqual([]);
  }, 120_000);

  it('a process killed between write and rename leaves the old file whole, and its lock is taken over', async () => {
    const original = ' 1,2\n 3,4\n';
    const path = fresh(original);
    const crash = run(['crash', path, '#1,2\n 3,4\n']);
    await output(crash.child, 'renaming');
    crash.child.kill('SIGKILL');
    await crash.done;
    expect(readFileSync(path, 'utf8')).toBe(original);

    // Killed while holding the lock: the next consumer takes it over.
    const hold = run(['hold', path]);
    await output(hold.child, 'locked');
    hold.child.kill('SIGKILL');
    await hold.done;
    expect(readFileSync(`${path}.lock`, 'utf8')).toMatch(/^\d+\nstarted \d+\n$/);
    const taken = await takeOneTimeSequence(path, async () => {}, { timeoutMs: 5000 });
    expect(taken.used).toEqual([tcp(1), tcp(2)]);
    expect(readFileSync(path, 'utf8')).toBe('#1,2\n 3,4\n');
  }, 60_000);

  it('waits for a live process that holds the lock, then fails naming it', async () => {
    const path = fresh(' 1\n');
    const hold = run(['hold', path]);
    await output(hold.child, 'locked');
    const error = await takeOneTimeSequence(path, async () => {}, { timeoutMs: 400 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'lock.timeout', exitCode: ExitCode.otsFile });
    expect((error as KnockError).message).toContain(`process ${hold.child.pid}`);
    hold.child.kill('SIGKILL');
    await hold.done;
    expect(readFileSync(path, 'utf8')).toBe(' 1\n');
  }, 60_000);
});
