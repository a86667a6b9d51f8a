import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDirectRunner,
  startCommandRunner,
  type CommandRunner,
  type RunnerProcess,
} from '../../src/actions/command-runner.js';
import { alive, canUnshare, until } from './process-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'knock-runner-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The same behaviour from the runner process and in-process.
describe.each([
  ['runner process', () => startCommandRunner({ killGraceMs: 300 })],
  ['direct runner', () => Promise.resolve(createDirectRunner({ killGraceMs: 300 }))],
] as const)('%s', (_name, make) => {
  let runner: CommandRunner;
  beforeAll(async () => {
    runner = await make();
  });
  afterAll(async () => {
    await runner.close();
  });

  it('runs a command through /bin/sh -c and reports success', async () => {
    const file = join(dir, `ok-${_name.length}`);
    const result = await runner.run(`printf '%s' "$((6 * 7))" > '${file}'`);
    expect(result).toMatchObject({ code: 0, signal: null, stderr: '', timedOut: false });
    expect(readFileSync(file, 'utf8')).toBe('42');
  });

  it("returns a failing command's status and stderr", async () => {
    const result = await runner.run('echo "iptables: Bad rule" >&2; echo out; exit 3');
    expect(result).toMatchObject({ code: 3, signal: null, timedOut: false });
    expect(result.stderr).toBe('iptables: Bad rule\n');
  });

  it('bounds the stderr it keeps', async () => {
    const result = await runner.run('head -c 100000 /dev/zero | tr "\\0" x >&2');
    expect(result.code).toBe(0);
    expect(result.stderr.length).toBeLessThan(9000);
    expect(result.stderr.endsWith('[stderr truncated]')).toBe(true);
  });

  it('kills the process group of a command that hangs past its timeout', async () => {
    const pidFile = join(dir, `hang-${_name.length}`);
    const started = Date.now();
    const result = await runner.run(`sleep 30 & echo $! > '${pidFile}'; wait`, {
      timeoutMs: 300,
    });
    expect(result.timedOut).toBe(true);
    expect(result.code).toBeNull();
    expect(result.signal).toBe('SIGTERM');
    expect(Date.now() - started).toBeLessThan(5000);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    await until(() => !alive(sleeper));
  });

  it('SIGKILLs a command that ignores SIGTERM, after the grace period', async () => {
    const result = await runner.run('trap "" TERM; sleep 30 & wait; sleep 30', { timeoutMs: 200 });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGKILL');
    expect(result.durationMs).toBeLessThan(5000);
  });

  it('survives a command that crashes', async () => {
    const crash = await runner.run('kill -SEGV $$');
    // From a ready shell the status is sh's view of it (128 + SIGSEGV); a direct
    // child of Node shows the signal itself.
    if (_name === 'runner process') expect(crash).toMatchObject({ code: 139, signal: null });
    else expect(crash).toMatchObject({ code: null, signal: 'SIGSEGV' });
    expect((await runner.run('exit 0')).code).toBe(0);
  });

  it('behaves as /bin/sh -c: its error texts, stdin at end of file, several lines', async () => {
    const missing = await runner.run('knock_no_such_command_x 1');
    expect(missing).toMatchObject({ code: 127 });
    expect(missing.stderr).toBe('/bin/sh: 1: knock_no_such_command_x: not found\n');
    const syntax = await runner.run('if');
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toBe(
      '/bin/sh: 1: Syntax error: end of file unexpected (expecting "then")\n',
    );
    const stdin = await runner.run('cat >&2; read x; echo "read $? [$x] $0 $#" >&2');
    expect(stdin).toMatchObject({ code: 0, stderr: 'read 1 [] /bin/sh 0\n' });
    const lines = await runner.run('echo one >&2\necho two >&2\nexit 6');
    expect(lines).toMatchObject({ code: 6, stderr: 'one\ntwo\n' });
  });

  it('runs commands back to back, and one longer than a pipe write', async () => {
    for (let i = 0; i < 8; i++) {
      expect(await runner.run(`echo ${i} >&2; exit ${i}`)).toMatchObject({
        code: i,
        stderr: `${i}\n`,
      });
    }
    const long = await runner.run(`: ${'x'.repeat(5000)}; echo "long $0" >&2`);
    expect(long).toMatchObject({ code: 0, stderr: 'long /bin/sh\n' });
    // longer than the shell reads at once: still run whole, as sh -c, stdin at its end
    const longer = await runner.run(
      `: ${'y'.repeat(20_000)}\ncat; echo "longer $0 $#" >&2\nexit 5\n\n`,
    );
    expect(longer).toMatchObject({ code: 5, stderr: 'longer /bin/sh 0\n' });
  });

  it('runs many commands in parallel, each with its own result', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => runner.run(`sleep 0.2; echo ${i} >&2; exit ${i % 7}`)),
    );
    results.forEach((result, i) => {
      expect(result.stderr).toBe(`${i}\n`);
      expect(result.code).toBe(i % 7);
    });
    // In parallel: 40 × 0.2 s in well under 8 s.
    expect(Math.max(...results.map((r) => r.durationMs))).toBeLessThan(4000);
  });
});

describe('runner process lifecycle', () => {
  let runner: RunnerProcess;
  const events: string[] = [];
  beforeAll(async () => {
    runner = await startCommandRunner({ onEvent: (message) => events.push(message) });
  });
  afterAll(async () => {
    await runner.close();
  });

  const rssKb = (pid: number): number =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  const statFields = (pid: number): string[] => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  };

  it('is a small shell script, not a second Node process', async () => {
    const pid = runner.pid!;
    await until(() => runner.readyPids.length === 1);
    const exe = readlinkSync(`/proc/${pid}/exe`);
    expect(exe).not.toBe(process.execPath);
    expect(exe).toMatch(/\/(dash|bash|sh)$/);
    // a shell costs a few MB of RSS (mostly shared libc pages), Node ~40 MB
    expect(rssKb(pid)).toBeLessThan(8 * 1024);
    for (const shell of runner.readyPids) expect(rssKb(shell)).toBeLessThan(8 * 1024);
  });

  it('is restarted when it dies and reports it; a command running meanwhile still reports', async () => {
    const pid = runner.pid!;
    const dirOf = (p: number) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[2]!;
    const oldDir = dirOf(pid);
    expect(existsSync(oldDir)).toBe(true);
    const inFlight = runner.run('sleep 0.5; echo done >&2; exit 3');
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(pid, 'SIGKILL');
    const result = await inFlight;
    expect(result).toMatchObject({ code: 3, stderr: 'done\n' });
    expect(result.error).toBeUndefined();
    await until(() => events.some((e) => e.includes(`pid ${pid}`) && e.includes('restarting')));
    const after = await runner.run('echo back >&2');
    expect(after).toMatchObject({ code: 0, stderr: 'back\n' });
    expect(runner.pid).not.toBe(pid);
    // the dead supervisor's directory is gone, the new one's is there
    expect(existsSync(oldDir)).toBe(false);
    await until(() => runner.pid !== undefined && runner.pid !== pid);
    expect(existsSync(dirOf(runner.pid!))).toBe(true);
  });

  it('is not killed by the signals meant for the daemon', async () => {
    await until(() => runner.pid !== undefined);
    const pid = runner.pid!;
    process.kill(pid, 'SIGTERM');
    process.kill(pid, 'SIGINT');
    process.kill(pid, 'SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(runner.pid).toBe(pid);
    expect(alive(pid)).toBe(true);
    expect((await runner.run('exit 5')).code).toBe(5);
    // and the commands get the default actions back: SIGTERM still ends one
    const killed = await runner.run('kill -TERM $$; sleep 5');
    expect(killed.code).toBe(143);
  });

  it('keeps shells ready in their own session, and they end with the runner', async () => {
    const other = await startCommandRunner();
    const pid = other.pid!;
    await until(() => other.readyPids.length === 1);
    const shells = other.readyPids;
    for (const shell of shells) {
      const fields = statFields(shell);
      // Process group and session of their own (fields 3 and 4 after the name).
      expect(Number(fields[2])).toBe(shell);
      expect(Number(fields[3])).toBe(shell);
    }
    // A command runs in one of them, and it is replaced.
    const result = await other.run('echo "$$" >&2');
    expect(shells).toContain(Number(result.stderr.trim()));
    await until(
      () => other.readyPids.length === 1 && !other.readyPids.includes(Number(result.stderr)),
    );
    const ready = other.readyPids;
    await other.close();
    await until(() => !alive(pid) && ready.every((shell) => !alive(shell)));
  });

  it('a command starts with no round trip through the runner (it runs while the runner is stopped)', async () => {
    const other = await startCommandRunner();
    const pid = other.pid!;
    await until(() => other.readyPids.length === 1);
    const file = join(dir, 'while-stopped');
    process.kill(pid, 'SIGSTOP');
    try {
      const result = other.run(`echo ran > '${file}'; echo "$0" >&2; exit 3`);
      await until(() => existsSync(file), 3000);
      // Its watcher, not the stopped supervisor, reports it: status and stderr as ever.
      expect(await result).toMatchObject({ code: 3, stderr: '/bin/sh\n', timedOut: false });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // A shell killed while ready is skipped, the command still runs.
    await until(() => other.readyPids.length === 1);
    const shells = other.readyPids;
    for (const shell of shells) process.kill(shell, 'SIGKILL');
    await until(() => shells.every((shell) => !alive(shell)));
    expect(await other.run('exit 4')).toMatchObject({ code: 4, signal: null });
    await other.close();
  });

  it('kills a hung command from the daemon side, even with its supervisor gone', async () => {
    const other = await startCommandRunner({ killGraceMs: 200 });
    const pidFile = join(dir, 'orphan-hang');
    const result = other.run(`sleep 30 & echo $! > '${pidFile}'; wait`, { timeoutMs: 300 });
    process.kill(other.pid!, 'SIGKILL');
    expect(await result).toMatchObject({ timedOut: true, code: null, signal: 'SIGTERM' });
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    await until(() => !alive(sleeper));
    await other.close();
  });

  it('the supervisor and its ready shells end when the daemon dies without closing it', async () => {
    const dist = new URL('../../dist/actions/command-runner.js', import.meta.url).href;
    const owner = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(dist)});
         const r = await m.startCommandRunner();
         while (r.readyPids.length === 0) await new Promise((ok) => setTimeout(ok, 10));
         console.log(JSON.stringify({ pid: r.pid, shells: r.readyPids }));
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve) =>
      owner.stdout.once('data', (d: Buffer) => resolve(d.toString())),
    );
    const { pid, shells } = JSON.parse(line) as { pid: number; shells: number[] };
    expect(alive(pid)).toBe(true);
    owner.kill('SIGKILL');
    await until(() => !alive(pid) && shells.every((shell) => !alive(shell)), 5000);
  });

  it('says what is wrong when it has no directory for its FIFOs', async () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = join(dir, 'no-such-dir');
    try {
      await expect(startCommandRunner()).rejects.toMatchObject({
        code: 'runner.start',
        message: expect.stringMatching(/no private directory for its FIFOs in .*no-such-dir/),
      });
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });

  it('close() also runs the commands still waiting for a shell', async () => {
    const other = await startCommandRunner();
    const results = [1, 2, 3].map((i) => other.run(`exit ${i}`));
    await other.close();
    expect((await Promise.all(results)).map((r) => r.code)).toEqual([1, 2, 3]);
  });

  it('close() waits for running commands, then the runner exits', async () => {
    const other = await startCommandRunner();
    const pid = other.pid!;
    const running = other.run('sleep 0.3; exit 4');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await other.close();
    expect((await running).code).toBe(4);
    await until(() => !alive(pid));
    await expect(other.run('true')).rejects.toThrow(/closed/);
  });
});

// Pids wrap within minutes on a busy machine: a pid the runner remembers may belong to
// another process by the time it would signal it. Simulated here by handing the pid of
// a process started later (in another clock tick, as a reused pid's is) to a shell.
describe('runner pids reused by other processes', () => {
  interface ShellState {
    pid: number;
    job: unknown;
  }
  const internals = (runner: RunnerProcess) =>
    runner as unknown as { ready: ShellState[]; shells: Map<string, ShellState> };
  const busyShell = (runner: RunnerProcess): ShellState =>
    [...internals(runner).shells.values()].find((shell) => shell.job !== undefined)!;

  const strangers: number[] = [];
  /** Another process, in a group of its own (as a runner's shell or a `setsid` is). */
  const stranger = async (): Promise<number> => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    strangers.push(child.pid!);
    return child.pid!;
  };
  afterAll(() => {
    for (const pid of strangers) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  it.skipIf(!canUnshare)(
    'close() spares a process that really got the pid of a ready shell killed meanwhile',
    () => {
      // In a pid namespace of its own the next pid can be chosen. The event loop is held
      // from the kill to close(): the shell's exit line stays unread, as it can be.
      const dist = new URL('../../dist/actions/command-runner.js', import.meta.url).href;
      const script = `
        import { spawn } from 'node:child_process';
        import { existsSync, readFileSync, writeFileSync } from 'node:fs';
        const { startCommandRunner } = await import(${JSON.stringify(dist)});
        const runner = await startCommandRunner();
        while (runner.readyPids.length === 0) await new Promise((ok) => setTimeout(ok, 10));
        const [shell] = runner.readyPids;
        await new Promise((ok) => setTimeout(ok, 50));
        process.kill(shell, 'SIGKILL');
        const end = Date.now() + 300;
        while (Date.now() < end);
        writeFileSync('/proc/sys/kernel/ns_last_pid', String(shell - 1));
        const other = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
        await runner.close();
        await new Promise((ok) => setTimeout(ok, 100));
        const stat = existsSync('/proc/' + other.pid) ? readFileSync('/proc/' + other.pid + '/stat', 'utf8') : '';
        console.log(JSON.stringify({ shell, other: other.pid, alive: /\\) [^Z]/.test(stat) }));
        other.kill('SIGKILL');
        process.exit(0);`;
      const out = execFileSync(
        'unshare',
        ['-fp', '--mount-proc', process.execPath, '--input-type=module', '-e', script],
        { encoding: 'utf8', timeout: 10_000 },
      );
      const seen = JSON.parse(out) as { shell: number; other: number; alive: boolean };
      expect(seen.other).toBe(seen.shell);
      expect(seen.alive).toBe(true);
    },
  );

  it('close() does not kill a process that got the pid of a ready shell', async () => {
    const runner = await startCommandRunner();
    await until(() => runner.readyPids.length === 1);
    const [shell] = runner.readyPids;
    const other = await stranger();
    internals(runner).ready[0]!.pid = other;
    await runner.close();
    // The shell itself ends anyway: its script FIFO is closed.
    await until(() => !alive(shell!));
    expect(alive(other)).toBe(true);
  });

  it('a timeout does not signal a process that got the pid of the command shell', async () => {
    const runner = await startCommandRunner({ killGraceMs: 100 });
    await until(() => runner.readyPids.length === 1);
    const other = await stranger();
    const result = runner.run('sleep 0.6; exit 3', { timeoutMs: 200 });
    busyShell(runner).pid = other;
    // The command's own shell is not ours to signal any more either: it runs to its end.
    expect(await result).toMatchObject({ code: 3, timedOut: false, signal: null });
    expect(alive(other)).toBe(true);
    await runner.close();
  });

  it('a timeout that comes after the command exited (its stderr still held) is no timeout', async () => {
    const runner = await startCommandRunner({ killGraceMs: 100, stderrDrainMs: 2500 });
    await until(() => runner.readyPids.length === 1);
    // The shell exits at once; the background sleep keeps its stderr open, so the job
    // ends only 2.5 s later (the drain), after the 1 s timeout: wide margins, for a loaded machine.
    const result = await runner.run('sleep 3 & exit 3', { timeoutMs: 1000 });
    expect(result).toMatchObject({ code: 3, timedOut: false, signal: null });
    await runner.close();
  });

  it('a shell that ended unreported is reported lost, not taken for the process with its pid', async () => {
    const runner = await startCommandRunner({ killGraceMs: 100 });
    await until(() => runner.readyPids.length === 1);
    const other = await stranger();
    const result = runner.run('sleep 0.3; exit 3', { timeoutMs: 4000 });
    const shell = busyShell(runner);
    const watcher = Number(
      readFileSync(`/proc/${shell.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1],
    );
    // Its watcher dies: nobody reports the shell's exit, and its pid goes to another.
    process.kill(watcher, 'SIGKILL');
    shell.pid = other;
    expect(await result).toMatchObject({
      code: null,
      timedOut: false,
      error: expect.stringMatching(/ended unreported/),
    });
    expect(alive(other)).toBe(true);
    await runner.close();
  });

  it('a ready shell found dead when a command comes is not signalled through its pid', async () => {
    const runner = await startCommandRunner();
    await until(() => runner.readyPids.length === 1);
    const [shell] = runner.readyPids;
    const other = await stranger();
    internals(runner).ready[0]!.pid = other;
    process.kill(shell!, 'SIGKILL');
    // Its exit is not read yet (this loop holds the event loop): the write finds it dead.
    const end = Date.now() + 2000;
    while (alive(shell!) && Date.now() < end);
    const result = runner.run('exit 4');
    expect(await result).toMatchObject({ code: 4 });
    expect(alive(other)).toBe(true);
    await runner.close();
  });
});
