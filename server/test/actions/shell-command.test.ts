import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runShellCommand } from '../../src/actions/shell-command.js';
import { alive, canUnshare, until } from './process-helpers.js';

describe('runShellCommand timeouts', () => {
  it('SIGKILLs what is left of the group after the grace, even once sh has exited', async () => {
    // The subshell ignores SIGTERM (and so does its sleep); sh itself ends at it.
    const result = await runShellCommand("(trap '' TERM; sleep 30) & echo $! >&2; wait", {
      timeoutMs: 100,
      killGraceMs: 300,
    });
    expect(result).toMatchObject({ timedOut: true, code: null, signal: 'SIGTERM' });
    const leftover = Number(result.stderr.trim());
    expect(alive(leftover)).toBe(true);
    await until(() => !alive(leftover), 2000);
  });

  it('a timeout that comes after the command exited (its stderr still held) is no timeout', async () => {
    // sh exits at once; the sleep keeps stderr open, so the result waits the 2.5 s drain
    // for it, past the 1 s timeout (wide margins, for a loaded machine).
    const result = await runShellCommand('sleep 3 & exit 3', {
      timeoutMs: 1000,
      stderrDrainMs: 2500,
    });
    expect(result).toMatchObject({ code: 3, timedOut: false, signal: null });
  });

  it.skipIf(!canUnshare)(
    "after a timeout, the grace's SIGKILL spares a process that got the command's pid",
    () => {
      // In a pid namespace of its own the next pid can be chosen: the command's.
      const dist = new URL('../../dist/actions/shell-command.js', import.meta.url).href;
      const script = `
        import { spawn } from 'node:child_process';
        import { existsSync, readFileSync, writeFileSync } from 'node:fs';
        const { runShellCommand } = await import(${JSON.stringify(dist)});
        const result = await runShellCommand('echo $$ >&2; exec sleep 30', {
          timeoutMs: 100,
          killGraceMs: 600,
        });
        const pid = Number(result.stderr.trim());
        writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
        const other = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
        await new Promise((resolve) => setTimeout(resolve, 900));
        const stat = existsSync('/proc/' + other.pid) ? readFileSync('/proc/' + other.pid + '/stat', 'utf8') : '';
        console.log(JSON.stringify({ pid, other: other.pid, timedOut: result.timedOut, alive: /\\) [^Z]/.test(stat) }));
        other.kill('SIGKILL');
        process.exit(0);`;
      const out = execFileSync(
        'unshare',
        ['-fp', '--mount-proc', process.execPath, '--input-type=module', '-e', script],
        { encoding: 'utf8', timeout: 10_000 },
      );
      const seen = JSON.parse(out) as {
        pid: number;
        other: number;
        timedOut: boolean;
        alive: boolean;
      };
      expect(seen.timedOut).toBe(true);
      expect(seen.other).toBe(seen.pid);
      expect(seen.alive).toBe(true);
    },
  );
});
