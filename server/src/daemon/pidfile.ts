/**
 * The pidfile: `"<pid>\n"`, as knockd writes it. Unlike knockd (which overwrites
 * whatever is there), a pidfile naming a live process is refused, so two daemons
 * never sniff and fire the same doors; a stale one (dead pid, garbage) is replaced.
 * Written atomically (temp file + rename), so a reader never sees half a pid.
 * A pidfile that outlived a crash can name a pid another program got since (pids wrap):
 * where /proc tells, a process that started after the file was written, and is no knock
 * daemon, cannot be its writer, and the file is stale.
 */
import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { ExitCode, KnockError } from '@knock/shared';
import { namingTarget, processAlive, processStartTicks } from '@knock/shared/node';

export interface PidfileDeps {
  /** Does the live process with this pid own the pidfile? (default: ownsPidfile). */
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

type Read = (path: string) => string;
const readProc: Read = (path) => readFileSync(path, 'latin1');

/**
 * When process `pid` started, in ms since the epoch (to about a second: /proc/stat's
 * btime is whole seconds), or undefined where /proc cannot tell.
 */
export function processStartedAt(pid: number, read: Read = readProc): number | undefined {
  try {
    // Clock ticks since boot (USER_HZ, 100 on Linux), and the boot's time.
    const ticks = Number(processStartTicks(pid, read));
    const btime = Number(/^btime (\d+)$/m.exec(read('/proc/stat'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** btime's rounding and the time a daemon takes to write its pidfile, and then some. */
const STARTED_AFTER_MARGIN_MS = 2000;

/**
 * Does the live process `pid` own a pidfile written at `writtenAtMs`? Not when it started
 * after that (its pid was reused) and its command line does not name knock (knock-server,
 * knockd): both, so that a clock stepped forward after a daemon wrote its file (a board
 * without a battery-backed clock, at boot) never lets a second daemon start. Where /proc
 * cannot tell, a live process owns it.
 */
export function ownsPidfile(
  pid: number,
  writtenAtMs: number | undefined,
  read: Read = readProc,
): boolean {
  if (!processAlive(pid)) return false;
  const started = processStartedAt(pid, read);
  if (started === undefined || writtenAtMs === undefined) return true;
  if (started <= writtenAtMs + STARTED_AFTER_MARGIN_MS) return true;
  try {
    return read(`/proc/${pid}/cmdline`).toLowerCase().includes('knock');
  } catch {
    return true;
  }
}

/** Refuses when a live process other than us owns the pidfile. */
export function checkPidfile(path: string, deps: PidfileDeps = {}): void {
  const alive =
    deps.alive ??
    ((pid: number) => {
      let written: number | undefined;
      try {
        written = statSync(path).mtimeMs;
      } catch {
        written = undefined;
      }
      return ownsPidfile(pid, written);
    });
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
