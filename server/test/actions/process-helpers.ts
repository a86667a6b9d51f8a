// What the runner tests ask of processes, from /proc (Linux; the daemon's tests run as root).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Field `field` (as proc(5) numbers them) of /proc/PID/stat; comm may hold spaces. */
export const statField = (pid: number, field: number): string => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[field - 3]!;
};

/** Running (a zombie waiting for its reaper counts as gone). */
export const alive = (pid: number): boolean => {
  try {
    return statField(pid, 3) !== 'Z';
  } catch {
    return false;
  }
};

/** Waits until `check()` holds, polling every 20 ms; throws after `ms`. */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Can this process run a script in a pid namespace of its own (root, util-linux)? */
export const canUnshare = (() => {
  try {
    execFileSync('unshare', ['-fp', '--mount-proc', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
