import { describe, expect, it } from 'vitest';
import type { CommandResult, CommandRunner } from '../../src/actions/command-runner.js';
import { DaemonActions } from '../../src/daemon/actions-port.js';
import type { Firewall, FirewallSpec } from '../../src/firewall/index.js';
import { MemoryLog, config } from './fakes.js';

class FakeRunner implements CommandRunner {
  ran: string[] = [];
  closed = false;
  constructor(private readonly code: (command: string) => number = () => 0) {}
  run(command: string): Promise<CommandResult> {
    this.ran.push(command);
    return Promise.resolve({
      code: this.code(command),
      signal: null,
      stderr: '',
      timedOut: false,
      durationMs: 1,
    });
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function fakeFirewall() {
  const calls: string[] = [];
  const firewall = {
    kind: 'nftables',
    setup: (spec: FirewallSpec) => {
      calls.push(
        `setup ${spec.protectedPorts.map((p) => `${p.port}/${p.protocol}`).join(',')} trusted=${spec.trusted.join(',')}`,
      );
      return Promise.resolve();
    },
    grant: (a: string, ports: { port: number }[], s: number) => {
      calls.push(`grant ${a} ${ports.map((p) => p.port).join(',')} ${s}`);
      return Promise.resolve();
    },
    ban: (a: string, s: number) => {
      calls.push(`ban ${a} ${s}`);
      return Promise.resolve();
    },
  } as unknown as Firewall;
  return { firewall, calls };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('DaemonActions', () => {
  it("runs the door's command with %IP% and logs knockd's lines", async () => {
    const memory = new MemoryLog();
    const runner = new FakeRunner((c) => (c.includes('fail') ? 3 : 0));
    const actions = new DaemonActions({ runner, log: memory.logger() });
    const cfg = config(
      '[ssh]\n sequence = 1\n command = /bin/echo open %IP%\n[bad]\n sequence = 2\n command = fail %IP%\n',
    );
    actions.open(cfg.doors[0]!, '192.0.2.1', 4);
    actions.open(cfg.doors[1]!, '2001:db8::1', 6);
    await tick();
    expect(runner.ran).toEqual(['/bin/echo open 192.0.2.1', 'fail 2001:db8::1']);
    expect(memory.messages).toEqual([
      'ssh: running command: /bin/echo open 192.0.2.1',
      'bad: running command: fail 2001:db8::1',
      'bad: command returned non-zero status code (3)',
    ]);
    expect(memory.entries.map((e) => e.event)).toEqual(['command', 'command', 'commandFailed']);
  });

  it('Open_Ports and Ban go to the firewall, set up from the doors', async () => {
    const memory = new MemoryLog();
    const { firewall, calls } = fakeFirewall();
    const actions = new DaemonActions({
      runner: new FakeRunner(),
      log: memory.logger(),
      firewall: () => firewall,
      detectFirewall: () => Promise.resolve('nftables'),
    });
    const cfg = config(
      '[ssh]\n sequence = 1\n open_ports = 22/tcp\n open_timeout = 60\n[trap]\n sequence = 2\n ban = 3600\n',
    );
    await actions.reconfigure(cfg);
    actions.open(cfg.doors[0]!, '192.0.2.1', 4);
    actions.open(cfg.doors[1]!, '192.0.2.66', 4);
    await tick();
    expect(calls).toEqual([
      'setup 22/tcp trusted=',
      'grant 192.0.2.1 22 60',
      'ban 192.0.2.66 3600',
    ]);
    expect(memory.messages).toContain('192.0.2.1: ssh: opened 22/tcp for 60 s');
    expect(memory.messages).toContain('192.0.2.66: trap: banned for 3600 s');
  });

  it('without a backend, such doors say so instead of failing silently', async () => {
    const memory = new MemoryLog();
    const actions = new DaemonActions({
      runner: new FakeRunner(),
      log: memory.logger(),
      detectFirewall: () => Promise.resolve('none'),
    });
    const cfg = config('[ssh]\n sequence = 1\n open_ports = 22/tcp\n');
    await actions.reconfigure(cfg);
    actions.open(cfg.doors[0]!, '192.0.2.1', 4);
    expect(memory.messages.at(-1)).toBe('192.0.2.1: ssh: no firewall backend: 22/tcp not opened');
  });

  it('shutdown runs the pending stop commands now, then closes the runner', async () => {
    const memory = new MemoryLog();
    const runner = new FakeRunner();
    const actions = new DaemonActions({ runner, log: memory.logger() });
    const cfg = config(
      '[ssh]\n sequence = 1\n start_command = add %IP%\n cmd_timeout = 3600\n stop_command = del %IP%\n',
    );
    actions.open(cfg.doors[0]!, '192.0.2.1', 4);
    await tick();
    expect(runner.ran).toEqual(['add 192.0.2.1']);
    await actions.runAllPendingNow();
    await actions.close();
    expect(runner.ran).toEqual(['add 192.0.2.1', 'del 192.0.2.1']);
    expect(runner.closed).toBe(true);
  });
});
