import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SUPERVISOR } from '../../src/actions/runner-supervisor.js';
import { alive, statField, until } from './process-helpers.js';

/** The supervisor alone, driven by hand: its lines as they come. */
function startSupervisor() {
  const dir = mkdtempSync(join(tmpdir(), 'knock-runner-'));
  const script = join(dir, 'knock-runner.sh');
  writeFileSync(script, SUPERVISOR, { mode: 0o600 });
  const child = spawn('/bin/sh', [script, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { dir, child, lines, exited };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('runner supervisor', () => {
  it('reports each ready shell with its start time, the one /proc/PID/stat shows', async () => {
    const sup = startSupervisor();
    cleanups.push(() => sup.child.kill('SIGKILL'));
    sup.child.stdin.write('spawn\n');
    await until(() => sup.lines.some((l) => l.startsWith('shell 1 ')));
    const [, , pid, start] = sup.lines.find((l) => l.startsWith('shell 1 '))!.split(' ');
    expect(start).toBe(statField(Number(pid), 22));
    expect(readFileSync(join(sup.dir, '1.pid'), 'utf8')).toBe(`${pid} ${start}\n`);
    sup.child.stdin.write('quit\n');
    await sup.exited;
  });

  it('at quit ends the shells nobody took, but not a process that got a remembered pid since', async () => {
    const sup = startSupervisor();
    cleanups.push(() => sup.child.kill('SIGKILL'));
    sup.child.stdin.write('spawn\nspawn\n');
    await until(() => sup.lines.filter((l) => l.startsWith('shell ')).length === 2);
    // A pid is reused only after its process ended: later, in another clock tick (10 ms).
    await new Promise((resolve) => setTimeout(resolve, 30));
    const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const strangerPid = stranger.pid!;
    cleanups.push(() => stranger.kill('SIGKILL'));
    const shell = (n: number) =>
      Number(sup.lines.find((l) => l.startsWith(`shell ${n} `))!.split(' ')[2]);
    const [first, second] = [shell(1), shell(2)];
    cleanups.push(() => process.kill(second, 'SIGKILL'));
    // Shell 2 ended unreported (say its watcher was killed) and its pid went to another
    // process: the pidfile names that one now.
    const pidFile = join(sup.dir, '2.pid');
    writeFileSync(pidFile, readFileSync(pidFile, 'utf8').replace(/^\d+/, String(strangerPid)));
    sup.child.stdin.write('quit\n');
    await sup.exited;
    await until(() => !alive(first));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alive(strangerPid)).toBe(true);
  });

  it("a watcher's wait interrupted by a signal waits on: the shell's exit is reported once, with its status", async () => {
    const sup = startSupervisor();
    cleanups.push(() => sup.child.kill('SIGKILL'));
    sup.child.stdin.write('spawn\n');
    await until(() => sup.lines.some((l) => l.startsWith('shell 1 ')));
    const pid = Number(sup.lines.find((l) => l.startsWith('shell 1 '))!.split(' ')[2]);
    const watcher = Number(statField(pid, 4));
    let killed = false;
    cleanups.push(() => killed || process.kill(pid, 'SIGKILL'));
    process.kill(watcher, 'SIGTERM');
    process.kill(watcher, 'SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alive(watcher)).toBe(true);
    expect(sup.lines.filter((l) => l.startsWith('exit '))).toEqual([]);
    process.kill(pid, 'SIGKILL');
    killed = true;
    await until(() => sup.lines.some((l) => l.startsWith('exit ')));
    expect(sup.lines.filter((l) => l.startsWith('exit '))).toEqual([`exit 1 ${pid} 137`]);
    sup.child.stdin.write('quit\n');
    await sup.exited;
    rmSync(sup.dir, { recursive: true, force: true });
  });
});
