import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { KnockError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

export interface LockOptions {
  /** How long to wait for another holder, in ms. Default 10 000. */
  timeoutMs?: number;
  /** Pause between attempts, in ms (jittered). Default 25. */
  retryMs?: number;
}

/** A lock file whose pid is unreadable for this long is a leftover of a crash mid-create. */
const UNREADABLE_GRACE_MS = 5_000;

/** Callers in this process wait here, one at a time per lock, before touching the lock file. */
const queues = new Map<string, Promise<void>>();

const errnoCode = (error: unknown): string | undefined =>
  (error as NodeJS.ErrnoException | undefined)?.code;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return errnoCode(error) === 'EPERM';
  }
}

async function readHolder(lockPath: string): Promise<{ pid?: number; ageMs: number } | undefined> {
  try {
    const [text, st] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    const pid = /^\s*(\d+)\s*$/.exec(text)?.[1];
    return { ...(pid ? { pid: Number(pid) } : {}), ageMs: Date.now() - st.mtimeMs };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

async function tryCreate(lockPath: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx', 0o600);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Removes a stale lock. Several waiters may find the same dead pid at once; only the one
 * that wins the `.takeover` file (O_EXCL) removes it, after checking again that the lock
 * still names that dead pid, so a fresh lock taken meanwhile is never removed.
 */
async function takeOver(lockPath: string, stalePid: number | undefined): Promise<boolean> {
  const guard = `${lockPath}.takeover`;
  if (!(await tryCreate(guard))) {
    // Another waiter is taking over; a guard left by a crash is cleared after the grace time.
    const holder = await readHolder(guard);
    if (holder && holder.ageMs > UNREADABLE_GRACE_MS) await unlink(guard).catch(() => undefined);
    return false;
  }
  try {
    const holder = await readHolder(lockPath);
    if (holder && holder.pid === stalePid) {
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
 * Runs `fn` while holding an exclusive lock on `path` (the file `PATH.lock`, created with
 * O_EXCL and holding our pid). A lock left by a dead process is taken over; a live holder
 * is waited for, at most `timeoutMs`, then a KnockError (ExitCode.otsFile) names it.
 * Works across processes and between concurrent calls in one process.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const lockPath = `${path}.lock`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const previous = queues.get(lockPath) ?? Promise.resolve();
  let release!: () => void;
  const mine = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
  queues.set(lockPath, mine);
  try {
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      previous.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!inTime) throw lockTimeout(path, lockPath, timeoutMs, process.pid);
    return await lockFile(path, lockPath, fn, deadline, timeoutMs, options.retryMs ?? 25);
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
    `${path} is locked${holder === undefined ? '' : ` by process ${holder}`} (waited ${Math.round(timeoutMs / 1000)} s)`,
    {
      exitCode: ExitCode.otsFile,
      hint: `if no knock or knock-server is running, remove ${lockPath}`,
    },
  );

async function lockFile<T>(
  path: string,
  lockPath: string,
  fn: () => Promise<T>,
  deadline: number,
  timeoutMs: number,
  retryMs: number,
): Promise<T> {
  let lastHolder: number | undefined;
  for (;;) {
    let created: boolean;
    try {
      created = await tryCreate(lockPath);
    } catch (error) {
      throw new KnockError(
        'lock.create',
        `cannot create the lock file ${lockPath}: ${(error as Error).message}`,
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
      const stale =
        holder.pid === undefined
          ? holder.ageMs > UNREADABLE_GRACE_MS
          : // Callers in this process are queued, so our own pid is a leftover of an earlier
            // process that had the same pid (common in containers).
            holder.pid === process.pid || !isAlive(holder.pid);
      if (stale && (await takeOver(lockPath, holder.pid))) continue;
    }
    if (Date.now() >= deadline) throw lockTimeout(path, lockPath, timeoutMs, lastHolder);
    if (holder) await sleep(retryMs / 2 + Math.random() * retryMs);
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}
