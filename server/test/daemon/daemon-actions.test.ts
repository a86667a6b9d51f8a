import { describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import type { CommandResult, CommandRunner } from '../../src/actions/command-runner.js';
import { DaemonActions } from '../../src/daemon/daemon-actions.js';
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

function fakeFirewall(setupError?: () => Error | undefined) {
  const calls: string[] = [];
  const firewall = {
    kind: 'nftables',
    setup: (spec: FirewallSpec) => {
      const error = setupError?.();
      if (error) return Promise.reject(error);
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

  it('two doors opening the same port: protected once, said once', async () => {
    const memory = new MemoryLog();
    const { firewall, calls } = fakeFirewall();
    const actions = new DaemonActions({
      runner: new FakeRunner(),
      log: memory.logger(),
      firewall: () => firewall,
      detectFirewall: () => Promise.resolve('nftables'),
    });
    await actions.reconfigure(
      config(
        '[a]\n sequence = 1\n open_ports = 22/tcp\n[b]\n sequence = 2\n open_ports = 22/tcp, 2222/tcp\n',
      ),
    );
    expect(calls).toEqual(['setup 22/tcp,2222/tcp trusted=']);
    expect(memory.messages).toContain(
      'firewall (nftables) set up: protecting 22/tcp,2222/tcp, 0 trusted',
    );
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

  describe('a firewall that cannot be set up', () => {
    const nftError = () =>
      new KnockError('firewall.nftFailed', 'nft failed (setup): Error: Could not process rule', {
        exitCode: ExitCode.firewall,
      });
    const cfg = config('[ssh]\n sequence = 1\n open_ports = 22/tcp\n');

    it("at start: throws (ExitCode.firewall) with nft's message, and logs it", async () => {
      const memory = new MemoryLog();
      const { firewall } = fakeFirewall(nftError);
      const actions = new DaemonActions({
        runner: new FakeRunner(),
        log: memory.logger(),
        firewall: () => firewall,
        detectFirewall: () => Promise.resolve('nftables'),
      });
      const error = await actions.start(cfg).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KnockError);
      expect((error as KnockError).exitCode).toBe(ExitCode.firewall);
      expect((error as KnockError).message).toBe(
        'the firewall could not be set up: nft failed (setup): Error: Could not process rule: knock-server did not start',
      );
      expect(memory.messages).toContain(
        'firewall setup failed: nft failed (setup): Error: Could not process rule',
      );
    });

    it('at start: an unreadable trusted file is a config error (ExitCode.config)', async () => {
      const { firewall, calls } = fakeFirewall();
      const actions = new DaemonActions({
        runner: new FakeRunner(),
        log: new MemoryLog().logger(),
        firewall: () => firewall,
        detectFirewall: () => Promise.resolve('nftables'),
        loadTrusted: (path) =>
          Promise.reject(
            new KnockError('firewall.trustedUnreadable', `cannot read trusted file ${path}`, {
              exitCode: ExitCode.config,
            }),
          ),
      });
      const trusted = config(
        '[options]\n trusted_file = /nowhere\n[ssh]\n sequence = 1\n open_ports = 22/tcp\n',
      );
      const error = await actions.start(trusted).catch((e: unknown) => e);
      expect((error as KnockError).exitCode).toBe(ExitCode.config);
      expect((error as KnockError).message).toContain('cannot read trusted file /nowhere');
      expect(calls).toEqual([]);
    });

    it('at start: a config with no Open_Ports, Ban or Trusted_File needs no firewall', async () => {
      const actions = new DaemonActions({
        runner: new FakeRunner(),
        log: new MemoryLog().logger(),
        firewall: () => fakeFirewall(nftError).firewall,
        detectFirewall: () => Promise.resolve('nftables'),
      });
      await expect(actions.start(config('[a]\n sequence = 1\n command = true\n'))).resolves.toBe(
        undefined,
      );
    });

    it('at a reload: logged, and the backend set up before keeps serving grants', async () => {
      const memory = new MemoryLog();
      let broken = false;
      const { firewall, calls } = fakeFirewall(() => (broken ? nftError() : undefined));
      const actions = new DaemonActions({
        runner: new FakeRunner(),
        log: memory.logger(),
        firewall: () => firewall,
        detectFirewall: () => Promise.resolve('nftables'),
      });
      await actions.start(cfg);
      broken = true;
      await expect(actions.reconfigure(cfg)).resolves.toBe(undefined);
      expect(memory.messages.at(-1)).toBe(
        'firewall setup failed: nft failed (setup): Error: Could not process rule; the firewall rules stay as they were',
      );
      actions.open(cfg.doors[0]!, '192.0.2.1', 4);
      await tick();
      expect(calls).toEqual(['setup 22/tcp trusted=', 'grant 192.0.2.1 22 300']);
    });
  });

  describe('a Trusted_File with errors', () => {
    const cfg = config(
      '[options]\n trusted_file = /etc/knockd/trusted\n[ssh]\n sequence = 1\n open_ports = 22/tcp\n',
    );
    const broken = {
      addresses: ['192.0.2.20'],
      issues: [
        {
          severity: 'error' as const,
          code: 'trusted.invalid',
          message: "invalid address '300.1.2.3'",
          file: '/etc/knockd/trusted',
          line: 2,
          column: 1,
        },
      ],
    };
    const setUp = (files: { addresses: string[]; issues: typeof broken.issues }[]) => {
      const memory = new MemoryLog();
      const { firewall, calls } = fakeFirewall();
      const actions = new DaemonActions({
        runner: new FakeRunner(),
        log: memory.logger(),
        firewall: () => firewall,
        detectFirewall: () => Promise.resolve('nftables'),
        loadTrusted: () => Promise.resolve(files.shift() ?? { addresses: [], issues: [] }),
      });
      return { actions, memory, calls };
    };

    it('at a reload: the list set up before stays (one typo locks nobody out)', async () => {
      const { actions, memory, calls } = setUp([
        { addresses: ['192.0.2.20', '198.51.100.0/24'], issues: [] },
        broken,
      ]);
      await actions.start(cfg);
      await actions.reconfigure(cfg);
      expect(calls).toEqual([
        'setup 22/tcp trusted=192.0.2.20,198.51.100.0/24',
        'setup 22/tcp trusted=192.0.2.20,198.51.100.0/24',
      ]);
      expect(memory.messages).toContain(
        "/etc/knockd/trusted:2:1: error: invalid address '300.1.2.3'",
      );
      expect(memory.messages).toContain(
        '/etc/knockd/trusted has errors: keeping the 2 trusted entries loaded before',
      );
    });

    it('at start: nothing in it is trusted, and the log says so', async () => {
      const { actions, memory, calls } = setUp([broken]);
      await actions.start(cfg);
      expect(calls).toEqual(['setup 22/tcp trusted=']);
      expect(memory.messages).toContain(
        '/etc/knockd/trusted has errors: nothing in it is trusted until it is fixed (then SIGHUP)',
      );
    });
  });
});
