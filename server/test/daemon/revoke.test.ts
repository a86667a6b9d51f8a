import { describe, expect, it } from 'vitest';
import type { PortSpec } from '@knock/shared';
import type { CommandResult, CommandRunner } from '../../src/actions/command-runner.js';
import { DaemonActions } from '../../src/daemon/daemon-actions.js';
import type { Firewall } from '../../src/firewall/index.js';
import { MemoryLog, config } from './fakes.js';

class FakeRunner implements CommandRunner {
  ran: string[] = [];
  run(command: string): Promise<CommandResult> {
    this.ran.push(command);
    return Promise.resolve({ code: 0, signal: null, stderr: '', timedOut: false, durationMs: 1 });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A firewall that keeps grants as "address port/proto" strings. */
function memoryFirewall() {
  const grants = new Set<string>();
  const firewall = {
    kind: 'nftables',
    setup: () => Promise.resolve(),
    grant: (a: string, ports: PortSpec[]) => {
      for (const p of ports) grants.add(`${a} ${p.port}/${p.protocol}`);
      return Promise.resolve();
    },
    revoke: (a: string, ports?: readonly PortSpec[]) => {
      for (const g of [...grants])
        if (
          g.startsWith(`${a} `) &&
          (ports === undefined || ports.some((p) => g.endsWith(` ${p.port}/${p.protocol}`)))
        )
          grants.delete(g);
      return Promise.resolve();
    },
  } as unknown as Firewall;
  return { firewall, grants };
}

const CONFIG = `[openSSH]
 Sequence = 7000
 Open_Ports = 22/tcp
 Open_Timeout = 20
[openWeb]
 Sequence = 7001
 Open_Ports = 443/tcp
[runSSH]
 Sequence = 7002
 Start_Command = open %IP%
 Cmd_Timeout = 3600
 Stop_Command = close %IP%
[closeSSH]
 Sequence = 9000
 Revoke = openSSH,runSSH
`;

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('Revoke doors', () => {
  it("take back the named doors' grants of that knocker only, IPv4 and IPv6", async () => {
    const memory = new MemoryLog();
    const { firewall, grants } = memoryFirewall();
    const actions = new DaemonActions({
      runner: new FakeRunner(),
      log: memory.logger(),
      firewall: () => firewall,
      detectFirewall: () => Promise.resolve('nftables'),
    });
    const cfg = config(CONFIG);
    await actions.start(cfg);
    const [openSSH, openWeb, , closeSSH] = cfg.doors;
    for (const src of ['192.0.2.1', '192.0.2.2', '2001:db8::1']) {
      actions.open(openSSH!, src, src.includes(':') ? 6 : 4);
      actions.open(openWeb!, src, src.includes(':') ? 6 : 4);
    }
    await tick();
    expect(grants.size).toBe(6);
    actions.open(closeSSH!, '192.0.2.1', 4);
    actions.open(closeSSH!, '2001:db8::1', 6);
    await tick();
    expect([...grants].sort()).toEqual([
      '192.0.2.1 443/tcp',
      '192.0.2.2 22/tcp',
      '192.0.2.2 443/tcp',
      '2001:db8::1 443/tcp',
    ]);
    expect(memory.messages).toContain(
      '192.0.2.1: closeSSH: revoked 22/tcp (granted by openSSH, runSSH)',
    );
    expect(memory.messages).toContain(
      '2001:db8::1: closeSSH: revoked 22/tcp (granted by openSSH, runSSH)',
    );
  });

  it("run the named command door's pending stop command now, once", async () => {
    const memory = new MemoryLog();
    const runner = new FakeRunner();
    const { firewall } = memoryFirewall();
    const actions = new DaemonActions({
      runner,
      log: memory.logger(),
      firewall: () => firewall,
      detectFirewall: () => Promise.resolve('nftables'),
    });
    const cfg = config(CONFIG);
    await actions.start(cfg);
    actions.open(cfg.doors[2]!, '192.0.2.1', 4);
    actions.open(cfg.doors[2]!, '192.0.2.2', 4);
    await tick();
    expect(runner.ran).toEqual(['open 192.0.2.1', 'open 192.0.2.2']);
    actions.open(cfg.doors[3]!, '192.0.2.1', 4);
    await tick();
    expect(runner.ran).toEqual(['open 192.0.2.1', 'open 192.0.2.2', 'close 192.0.2.1']);
    expect(memory.messages).toContain('192.0.2.1: runSSH: revoked: running the stop command now');
    // Nothing pending for it any more: shutdown runs only the other knocker's stop.
    await actions.runAllPendingNow();
    expect(runner.ran.slice(3)).toEqual(['close 192.0.2.2']);
  });

  it('without a firewall backend, says what was not revoked', async () => {
    const memory = new MemoryLog();
    const actions = new DaemonActions({
      runner: new FakeRunner(),
      log: memory.logger(),
      detectFirewall: () => Promise.resolve('none'),
    });
    const cfg = config(CONFIG);
    await actions.start(cfg);
    actions.open(cfg.doors[3]!, '192.0.2.1', 4);
    await tick();
    expect(memory.messages).toContain(
      '192.0.2.1: closeSSH: no firewall backend: 22/tcp not revoked',
    );
  });

  it('follow a reload: the doors are looked up in the config running now', async () => {
    const memory = new MemoryLog();
    const { firewall, grants } = memoryFirewall();
    const actions = new DaemonActions({
      runner: new FakeRunner(),
      log: memory.logger(),
      firewall: () => firewall,
      detectFirewall: () => Promise.resolve('nftables'),
    });
    await actions.start(config(CONFIG));
    const next = config(CONFIG.replace('Open_Ports = 22/tcp', 'Open_Ports = 2222/tcp'));
    await actions.reconfigure(next);
    actions.open(next.doors[0]!, '192.0.2.1', 4);
    await tick();
    actions.open(next.doors[3]!, '192.0.2.1', 4);
    await tick();
    expect(grants.size).toBe(0);
  });
});
