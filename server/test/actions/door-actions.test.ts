import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Door } from '@knock/shared';
import type { CommandResult, CommandRunner, RunOptions } from '../../src/actions/command-runner.js';
import { DoorActions, type ActionLogLevel } from '../../src/actions/door-actions.js';

const ok = (extra: Partial<CommandResult> = {}): CommandResult => ({
  code: 0,
  signal: null,
  stderr: '',
  timedOut: false,
  durationMs: 1,
  ...extra,
});

/** Records commands; each resolves at once with `result(command)`, or when released if `hold` says so. */
class FakeRunner implements CommandRunner {
  readonly ran: { command: string; at: number; options: RunOptions | undefined }[] = [];
  readonly held: { command: string; release: (result?: CommandResult) => void }[] = [];
  running = 0;
  maxRunning = 0;
  result: (command: string) => CommandResult | Error = () => ok();
  hold: (command: string) => boolean = () => false;

  run(command: string, options?: RunOptions): Promise<CommandResult> {
    this.ran.push({ command, at: Date.now(), options });
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const outcome = this.result(command);
    const done = <T>(value: T): T => {
      this.running--;
      return value;
    };
    if (this.hold(command)) {
      return new Promise((resolve, reject) => {
        this.held.push({
          command,
          release: (result) => {
            done(0);
            if (outcome instanceof Error) reject(outcome);
            else resolve(result ?? outcome);
          },
        });
      });
    }
    done(0);
    return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
  }

  async close(): Promise<void> {}

  commands(): string[] {
    return this.ran.map((r) => r.command);
  }
}

function door(extra: Partial<Door> = {}): Door {
  return {
    name: 'ssh',
    line: 1,
    sequence: [{ port: 7000, protocol: 'tcp' }],
    seqTimeout: 25,
    tcpFlags: {},
    startCommand: 'open %IP%',
    stopCommand: 'close %IP%',
    cmdTimeout: 10,
    ...extra,
  };
}

/** The door of door(extra) without its start or its stop command. */
function doorWithout(command: 'startCommand' | 'stopCommand', extra: Partial<Door> = {}): Door {
  const { [command]: _dropped, ...rest } = door(extra);
  return rest;
}

const A = '198.51.100.1';
const B = '198.51.100.2';

let runner: FakeRunner;
let lines: { line: string; level: ActionLogLevel | undefined }[];
let actions: DoorActions;

const log = () => lines.map((l) => l.line);

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  runner = new FakeRunner();
  lines = [];
  actions = new DoorActions({
    runner,
    log: (line, level) => lines.push({ line, level }),
    commandTimeoutMs: 5000,
  });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('DoorActions.open', () => {
  it('runs the start command, then the stop command Cmd_Timeout seconds later, with knockd lines', async () => {
    await actions.open(door(), A, 4);
    expect(runner.commands()).toEqual([`open ${A}`]);
    expect(runner.ran[0]?.options).toEqual({ timeoutMs: 5000 });
    expect(actions.pending()).toEqual([
      { door: 'ssh', src: A, family: 4, command: `close ${A}`, due: 1_010_000 },
    ]);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(runner.commands()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runner.ran[1]).toMatchObject({ command: `close ${A}`, at: 1_010_000 });
    expect(log()).toEqual([
      `ssh: running command: open ${A}`,
      `${A}: ssh: command timeout`,
      `ssh: running command: close ${A}`,
    ]);
    expect(actions.pending()).toEqual([]);
  });

  it('counts Cmd_Timeout from the end of the start command, as knockd does', async () => {
    runner.hold = (c) => c.startsWith('open');
    const opened = actions.open(door(), A, 4);
    await vi.advanceTimersByTimeAsync(3000);
    expect(actions.pending()[0]?.due).toBeUndefined();
    runner.held[0]?.release();
    await opened;
    expect(actions.pending()[0]?.due).toBe(1_013_000);
  });

  it('uses the _6 commands for IPv6 knockers, and runs nothing when Start_Command_6 is empty', async () => {
    const v6 = door({ startCommand6: 'open6 %IP%', stopCommand6: 'close6 %IP%' });
    await actions.open(v6, '2001:db8::1', 6);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runner.commands()).toEqual(['open6 2001:db8::1', 'close6 2001:db8::1']);

    await actions.open(door({ startCommand6: '' }), '2001:db8::2', 6);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runner.commands()).toHaveLength(2);

    // Without _6 forms, IPv6 knockers get the IPv4 commands (knockd's fallback).
    await actions.open(door(), '2001:db8::3', 6);
    expect(runner.commands()[2]).toBe('open 2001:db8::3');
  });

  it('runs the start command on every knock when the door has no stop command', async () => {
    const ban = doorWithout('stopCommand', { name: 'ban', startCommand: 'ban %IP%' });
    await actions.open(ban, A, 4);
    await actions.open(ban, A, 4);
    expect(runner.commands()).toEqual([`ban ${A}`, `ban ${A}`]);
    expect(actions.pending()).toEqual([]);
  });

  it('runs nothing at all without a start command (not even the stop command)', async () => {
    await actions.open(doorWithout('startCommand'), A, 4);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runner.commands()).toEqual([]);
    expect(log()).toEqual([]);
  });
});

describe('DoorActions: repeated knocks', () => {
  it('does not run the start command again while the stop is pending: it postpones the stop', async () => {
    await actions.open(door(), A, 4);
    await vi.advanceTimersByTimeAsync(6000);
    await actions.open(door(), A, 4);
    expect(runner.commands()).toEqual([`open ${A}`]);
    expect(actions.pending()).toHaveLength(1);
    expect(actions.pending()[0]?.due).toBe(1_016_000);
    expect(log()[1]).toBe(
      `${A}: ssh: already open, start command not run again; stop command postponed by 10 s`,
    );
    await vi.advanceTimersByTimeAsync(9_999);
    expect(runner.commands()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runner.commands()).toEqual([`open ${A}`, `close ${A}`]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runner.commands()).toHaveLength(2); // one stop, not two
  });

  it('does not run the start command twice when the knock repeats while it still runs', async () => {
    runner.hold = (c) => c.startsWith('open');
    const first = actions.open(door(), A, 4);
    await actions.open(door(), A, 4);
    expect(runner.commands()).toEqual([`open ${A}`]);
    runner.held[0]?.release();
    await first;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runner.commands()).toEqual([`open ${A}`, `close ${A}`]);
  });

  it('runs the start command again once the stop has run', async () => {
    await actions.open(door(), A, 4);
    await vi.advanceTimersByTimeAsync(10_000);
    await actions.open(door(), A, 4);
    expect(runner.commands()).toEqual([`open ${A}`, `close ${A}`, `open ${A}`]);
  });

  it('keeps sources and doors apart', async () => {
    await actions.open(door(), A, 4);
    await actions.open(door(), B, 4);
    await actions.open(
      door({ name: 'web', startCommand: 'web %IP%', stopCommand: 'unweb %IP%' }),
      A,
      4,
    );
    expect(runner.commands()).toEqual([`open ${A}`, `open ${B}`, `web ${A}`]);
    expect(actions.pending().map((p) => `${p.door} ${p.src}`)).toEqual([
      `ssh ${A}`,
      `ssh ${B}`,
      `web ${A}`,
    ]);
  });

  it('never overlaps commands of one source and door: a start waits for a running stop', async () => {
    runner.hold = (c) => c.startsWith('close');
    await actions.open(door(), A, 4);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runner.commands()).toEqual([`open ${A}`, `close ${A}`]);
    const again = actions.open(door(), A, 4);
    await vi.advanceTimersByTimeAsync(100);
    expect(runner.commands()).toHaveLength(2);
    runner.held[0]?.release();
    await again;
    expect(runner.commands()).toEqual([`open ${A}`, `close ${A}`, `open ${A}`]);
    expect(runner.maxRunning).toBe(1);
  });
});

describe('DoorActions: failures', () => {
  it('logs the exit status and stderr, and still runs the stop command', async () => {
    runner.result = (c) =>
      c.startsWith('open') ? ok({ code: 3, stderr: 'iptables: No chain\nsecond line\n' }) : ok();
    await actions.open(door(), A, 4);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(lines).toEqual([
      { line: `ssh: running command: open ${A}`, level: undefined },
      { line: 'ssh: command returned non-zero status code (3)', level: 'error' },
      { line: 'ssh: command stderr: iptables: No chain', level: 'error' },
      { line: 'ssh: command stderr: second line', level: 'error' },
      { line: `${A}: ssh: command timeout`, level: undefined },
      { line: `ssh: running command: close ${A}`, level: undefined },
    ]);
  });

  it('logs a command killed by its timeout, by a signal, or that could not run', async () => {
    const results: CommandResult[] = [
      ok({ code: null, signal: 'SIGTERM', timedOut: true }),
      ok({ code: null, signal: 'SIGSEGV' }),
      ok({ code: null, error: 'the command runner died (SIGKILL) while the command ran' }),
    ];
    runner.result = () => results.shift() ?? ok();
    const once = doorWithout('stopCommand');
    for (let i = 0; i < 3; i++) await actions.open(once, A, 4);
    runner.result = () => new Error('the command runner is closed');
    await actions.open(once, A, 4);
    expect(log().filter((l) => !l.includes('running command'))).toEqual([
      'ssh: command timed out after 5 s and was killed',
      'ssh: command was killed by SIGSEGV',
      'ssh: command could not run: the command runner died (SIGKILL) while the command ran',
      'ssh: command could not run: the command runner is closed',
    ]);
  });

  it("refuses commands reaching 4096 bytes with knockd's messages, running neither", async () => {
    await actions.open(door({ startCommand: 'x'.repeat(4092) + '%IP%' }), A, 4);
    await actions.open(door({ stopCommand: 'y'.repeat(5000) }), A, 4);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runner.commands()).toEqual([]);
    expect(log()).toEqual([
      "error: parsed start command has been truncated! --> won't execute it",
      "error: parsed stop command has been truncated! --> won't execute start command",
    ]);
  });
});

describe('DoorActions: reload and shutdown', () => {
  it('keeps a pending stop across a reload that changes or removes the door', async () => {
    await actions.open(door(), A, 4);
    // After a reload the door's commands changed; a repeat knock extends the old stop.
    await vi.advanceTimersByTimeAsync(5000);
    await actions.open(door({ startCommand: 'open2 %IP%', stopCommand: 'close2 %IP%' }), A, 4);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runner.commands()).toEqual([`open ${A}`, `close ${A}`]);
  });

  it('runAllPendingNow runs every pending stop at once and waits for them', async () => {
    await actions.open(door(), A, 4);
    await actions.open(door(), B, 4);
    await vi.advanceTimersByTimeAsync(1000);
    await actions.runAllPendingNow();
    expect(runner.commands()).toEqual([`open ${A}`, `open ${B}`, `close ${A}`, `close ${B}`]);
    expect(runner.ran.slice(2).map((r) => r.at)).toEqual([1_001_000, 1_001_000]);
    expect(log()).toContain(`${A}: ssh: shutting down: running the stop command now`);
    expect(actions.pending()).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runner.commands()).toHaveLength(4); // the timers were cancelled
    await actions.open(door(), A, 4); // too late: nothing opens during shutdown
    expect(runner.commands()).toHaveLength(4);
  });

  it('runAllPendingNow runs the stop after a start that is still running', async () => {
    runner.hold = (c) => c.startsWith('open');
    void actions.open(door(), A, 4);
    const done = actions.runAllPendingNow();
    await vi.advanceTimersByTimeAsync(10);
    expect(runner.commands()).toEqual([`open ${A}`]);
    runner.held[0]?.release();
    await done;
    expect(runner.commands()).toEqual([`open ${A}`, `close ${A}`]);
    expect(runner.maxRunning).toBe(1);
  });

  it('schedules stop commands beyond the 24.8-day setTimeout ceiling', async () => {
    await actions.open(door({ cmdTimeout: 30 * 86_400 }), A, 4);
    await vi.advanceTimersByTimeAsync(29 * 86_400_000);
    expect(runner.commands()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(86_400_000);
    expect(runner.commands()).toEqual([`open ${A}`, `close ${A}`]);
  });
});
