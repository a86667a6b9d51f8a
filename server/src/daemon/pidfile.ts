/**
 * The pidfile: `"<pid>\n"`, as knockd writes it. Unlike knockd (which overwrites
 * whatever is there), a pidfile naming a live process is refused, so two daemons
 * never sniff and fire the same doors; a stale one (dead pid, garbage) is replaced.
 * Written atomically (temp file + rename), so a reader never sees half a pid.
 * A pidfile that outlived a crash can name a pid another program got since (pids wrap):
 * where /proc tells, only a process whose command line names knock (knock-server,
 * knockd) holds the file.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { ExitCode, KnockError } from '@knock/shared';
import { namingTarget, processAlive } from '@knock/shared/node';

export interface PidfileDeps {
  /** Is a knock daemon alive with this pid? (default: daemonAlive). */
  alive?: (pid: number) => boolean;
  pid?: number;
}

/** The pid a pidfile names, or undefined when it is missing or holds no pid. */
export function readPidfile(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^\s*(\d+)\s*$/.exec(text);
  if (!match) return undefined;
  const pid = Number(match[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Is `pid` a live knock daemon? Alive (kill(pid, 0)), and where /proc/PID/cmdline can be
 * read, "knock" in it (`node …/knock-server …`, `/usr/sbin/knockd`): a pid reused by
 * another program since is no daemon. Without /proc, alive is enough, as before.
 */
export function daemonAlive(
  pid: number,
  read: (path: string) => string = (p) => readFileSync(p, 'latin1'),
): boolean {
  if (!processAlive(pid)) return false;
  let cmdline: string;
  try {
    cmdline = read(`/proc/${pid}/cmdline`);
  } catch {
    return true;
  }
  // An empty cmdline is a zombie or a kernel thread: not a daemon that holds the file.
  return cmdline.toLowerCase().includes('knock');
}

/** Refuses when a live knock daemon other than us owns the pidfile. */
export function checkPidfile(path: string, deps: PidfileDeps = {}): void {
  const alive = deps.alive ?? ((pid: number) => daemonAlive(pid));
  const self = deps.pid ?? process.pid;
  const pid = readPidfile(path);
  if (pid !== undefined && pid !== self && alive(pid)) {
    throw new KnockError(
      'server.alreadyRunning',
      `knock-server is already running: pidfile ${path} names live process ${pid}`,
      {
        exitCode: ExitCode.alreadyRunning,
        hint: `stop it first (kill ${pid}), or give this instance another pidfile with -p`,
      },
    );
  }
}

/** Checks, then writes our pid atomically. Throws KnockError when it cannot. */
export function writePidfile(path: string, deps: PidfileDeps = {}): void {
  checkPidfile(path, deps);
  const pid = deps.pid ?? process.pid;
  const temp = join(dirname(path), `.${basename(path)}.${pid}.tmp`);
  try {
    writeFileSync(temp, `${pid}\n`, { mode: 0o644 });
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // nothing written
    }
    throw new KnockError(
      'server.pidfile',
      `could not create pid file ${path}: ${(namingTarget(error, temp, path) as Error).message}`,
      {
        exitCode: ExitCode.failure,
        hint: 'check that its directory exists and is writable, or choose another with -p / PidFile',
      },
    );
  }
}

/** Removes the pidfile if it is still ours. */
export function removePidfile(path: string, pid: number = process.pid): void {
  if (readPidfile(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
