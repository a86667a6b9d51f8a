import { readFileSync } from 'node:fs';
import { open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { errorText, KnockError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

// How the lock works, and why so (it must work on Linux, macOS and Windows alike):
// - The lock is a file, REALPATH.lock, created with O_CREAT|O_EXCL ('wx'), holding the
//   holder's pid and its process start time. O_EXCL creation is atomic on every local
//   file system Node supports, Windows included; flock/fcntl locks are not used (Node has
//   no API for them, and they do not exist on Windows).
// - It is keyed on the real path of the file (symlinks resolved, `a//b`, `../x/b`
//   normalised), so every spelling of one file takes the same lock.
// - A holder is alive when `process.kill(pid, 0)` says so: the one signal call that works
//   on Windows as well. No other signal is ever sent.
// - A lock naming this process (same pid, same start time) is held here, by another caller
//   or another copy of this module: it is waited for, never taken over. One naming our pid
//   with another start time is a leftover of an earlier process that had our pid (common
//   in containers) and is stale.

export interface LockHolder {
  /** The holder's pid, when the lock file could be read. */
  pid?: number;
  /** The lock file. */
  lockPath: string;
}

export interface LockOptions {
  /** How long to wait for another holder, in ms. Default 10 000. */
  timeoutMs?: number;
  /** Pause between attempts, in ms (jittered). Default 25. */
  retryMs?: number;
  /**
   * Called once when the lock is still held by someone else after `waitNoticeMs`: the
   * command line says "waiting for the lock held by process N" there.
   */
  onWait?: (holder: LockHolder) => void;
  /** When to call onWait, in ms. Default 1000. */
  waitNoticeMs?: number;
}

/** A lock file whose pid is unreadable for this long is a leftover of a crash mid-create. */
const UNREADABLE_GRACE_MS = 5_000;

/** When this process started (ms since the epoch): the same in every thread and module copy. */
const processStart = Math.round(Date.now() - process.uptime() * 1000);
/** Start times differ between module copies by rounding and clock steps: this much is "the same". */
const SAME_START_MS = 2_000;

/**
 * Callers in this process wait here, one at a time per lock, before touching the lock
 * file. Kept on globalThis so that two copies of this module (built and source, or two
 * versions) queue together.
 */
const queues: Map<string, Promise<void>> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('knock.lock.queues')
] ??= new Map<string, Promise<void>>()) as Map<string, Promise<void>>;

/** Per path as given: callers resolve their lock key in call order, so they queue in call order. */
const resolving = new Map<string, Promise<string>>();

/** lockKey(path), settled after every earlier call for the same path text. */
function lockKeyInOrder(path: string): Promise<string> {
  const key = (resolving.get(path) ?? Promise.resolve('')).then(
    () => lockKey(path),
    () => lockKey(path),
  );
  resolving.set(path, key);
  void key.then(
    () => {
      if (resolving.get(path) === key) resolving.delete(path);
    },
    () => undefined,
  );
  return key;
}

const errnoCode = (error: unknown): string | undefined =>
  (error as NodeJS.ErrnoException | undefined)?.code;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Is a process with this pid alive? (`kill(pid, 0)`: no signal is sent.) */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else: alive all the same.
    return errnoCode(error) === 'EPERM';
  }
}

/**
 * When process `pid` started: field 22 of /proc/PID/stat (clock ticks since boot, as
 * text), or undefined where /proc cannot tell. A pid reused by a later process has a
 * later start. The fields count from after "pid (comm) "; comm may hold spaces and ")".
 */
export function processStartTicks(
  pid: number,
  read: (path: string) => string = (path) => readFileSync(path, 'latin1'),
): string | undefined {
  try {
    const stat = read(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

interface Holder {
  pid?: number;
  /** The holder's process start time, when the lock file records it. */
  started?: number;
  ageMs: number;
}

async function readHolder(lockPath: string): Promise<Holder | undefined> {
  try {
    const [text, st] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    const match = /^\s*(\d+)\s*(?:\n\s*started (\d+)\s*)?$/.exec(text);
    return {
      ...(match?.[1] ? { pid: Number(match[1]) } : {}),
      ...(match?.[2] ? { started: Number(match[2]) } : {}),
      ageMs: Date.now() - st.mtimeMs,
    };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** What a lock file says: our pid, then when this process started. */
const lockText = () => `${process.pid}\nstarted ${processStart}\n`;

async function tryCreate(lockPath: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx', 0o600);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(lockText());
  } finally {
    await handle.close();
  }
  return true;
}

/** Is the process that wrote this lock gone? */
function isStale(holder: Holder): boolean {
  if (holder.pid === undefined) return holder.ageMs > UNREADABLE_GRACE_MS;
  if (holder.pid === process.pid)
    // Ours only if it started when we did; without a start time (an older lock), a
    // caller here would be queued before reaching the file, so it is a leftover.
    return holder.started === undefined || Math.abs(holder.started - processStart) > SAME_START_MS;
  return !processAlive(holder.pid);
}

/**
 * Removes a stale lock. Several waiters may find the same dead pid at once; only the one
 * that wins the `.takeover` file (O_EXCL) removes it, after checking again that the lock
 * still names that dead pid, so a fresh lock taken meanwhile is never removed.
 */
async function takeOver(lockPath: string, stale: Holder): Promise<boolean> {
  const guard = `${lockPath}.takeover`;
  if (!(await tryCreate(guard))) {
    // Another waiter is taking over; a guard left by a crash is cleared after the grace time.
    const holder = await readHolder(guard);
    if (holder && holder.ageMs > UNREADABLE_GRACE_MS) await unlink(guard).catch(() => undefined);
    return false;
  }
  try {
    const holder = await readHolder(lockPath);
    if (holder && holder.pid === stale.pid && holder.started === stale.started) {
      // Rename first: unlink of a path someone just recreated would be the race we avoid.
      const aside = `${lockPath}.stale.${process.pid}`;
      await rename(lockPath, aside);
      await unlink(aside).catch(() => undefined);
    }
  } finally {
    await unlink(guard).catch(() => undefined);
  }
  return true;
}

/**
 * The path the lock is keyed on: the file's real path (symlinks resolved, the spelling
 * normalised); for a file that does not exist yet, its folder's real path and its name.
 */
export async function lockKey(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') return resolve(path);
  }
  try {
    return join(await realpath(dirname(path)), basename(path));
  } catch {
    return resolve(path);
  }
}

/**
 * Runs `fn` while holding an exclusive lock on `path` (the file `REALPATH.lock`, created
 * with O_EXCL and holding our pid). A lock left by a dead process is taken over; a live
 * holder, this process included, is waited for, at most `timeoutMs`, then a KnockError
 * (ExitCode.otsFile) names it. Works across processes, between concurrent calls in one
 * process, and whatever path spelling or symlink each caller uses.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const key = await lockKeyInOrder(path);
  const lockPath = `${key}.lock`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let noticed = false;
  const notice = (pid: number | undefined) => {
    if (noticed || options.onWait === undefined) return;
    noticed = true;
    options.onWait(pid === undefined ? { lockPath } : { pid, lockPath });
  };
  const previous = queues.get(lockPath) ?? Promise.resolve();
  let release!: () => void;
  const mine = previous.then(() => new Promise<void>((done) => (release = done)));
  queues.set(lockPath, mine);
  try {
    const timers: NodeJS.Timeout[] = [];
    const inTime = await Promise.race([
      previous.then(() => true),
      new Promise<false>((done) => timers.push(setTimeout(() => done(false), timeoutMs))),
      new Promise<never>(() =>
        timers.push(setTimeout(() => notice(process.pid), options.waitNoticeMs ?? 1000)),
      ),
    ]);
    for (const timer of timers) clearTimeout(timer);
    if (!inTime) throw lockTimeout(path, lockPath, timeoutMs, process.pid);
    return await lockFile(path, lockPath, fn, {
      deadline,
      timeoutMs,
      retryMs: options.retryMs ?? 25,
      noticeAt: started + (options.waitNoticeMs ?? 1000),
      notice,
    });
  } finally {
    // Our turn ends once the previous caller's has: release only after it.
    void previous.then(() => release());
    void mine.then(() => {
      if (queues.get(lockPath) === mine) queues.delete(lockPath);
    });
  }
}

const lockTimeout = (path: string, lockPath: string, timeoutMs: number, holder?: number) =>
  new KnockError(
    'lock.timeout',
    `${path} is locked${holder === undefined ? '' : ` by process ${holder}${holder === process.pid ? ' (this one)' : ''}`} (waited ${Math.round(timeoutMs / 1000)} s)`,
    {
      exitCode: ExitCode.otsFile,
      hint: `if no knock or knock-server is running, remove ${lockPath}`,
    },
  );

async function lockFile<T>(
  path: string,
  lockPath: string,
  fn: () => Promise<T>,
  wait: {
    deadline: number;
    timeoutMs: number;
    retryMs: number;
    noticeAt: number;
    notice: (pid: number | undefined) => void;
  },
): Promise<T> {
  let lastHolder: number | undefined;
  for (;;) {
    let created: boolean;
    try {
      created = await tryCreate(lockPath);
    } catch (error) {
      throw new KnockError(
        'lock.create',
        `cannot create the lock file ${lockPath}: ${errorText(error)}`,
        {
          exitCode: ExitCode.otsFile,
          hint: 'check that its directory exists and is writable',
          cause: error,
        },
      );
    }
    if (created) break;
    const holder = await readHolder(lockPath);
    if (holder) {
      lastHolder = holder.pid;
      if (isStale(holder) && (await takeOver(lockPath, holder))) continue;
    }
    const now = Date.now();
    if (now >= wait.deadline) throw lockTimeout(path, lockPath, wait.timeoutMs, lastHolder);
    if (now >= wait.noticeAt) wait.notice(lastHolder);
    if (holder) await sleep(wait.retryMs / 2 + Math.random() * wait.retryMs);
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}
