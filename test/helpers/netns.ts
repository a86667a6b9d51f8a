/**
 * Network namespaces for tests that send real packets. Each `createLab()` makes two
 * fresh namespaces joined by a veth pair, addressed only from the documentation ranges
 * (192.0.2.0/24, 2001:db8::/32), with no default route: nothing can leave them.
 *
 *   client ns  vc<id> 192.0.2.1/24  2001:db8::1/64   <-veth->   vs<id> 192.0.2.2/24  2001:db8::2/64  server ns
 *              + extra client addresses 192.0.2.10 … (opts.extraClients)
 *
 * Tests that need it are skipped with a visible reason when not root.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';
import { runProcess } from './run.js';

const run = promisify(execFile);

function hasIp(): boolean {
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    try {
      accessSync(`${dir}/ip`, constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/** Why namespace tests cannot run here, or undefined when they can. */
export const netnsSkipReason: string | undefined =
  process.getuid?.() !== 0
    ? 'needs root (network namespaces, packet capture): run the suite as root, as CI does'
    : hasIp()
      ? undefined
      : 'needs iproute2 (`ip`): run scripts/setup.sh';

export const canUseNetns = netnsSkipReason === undefined;

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Netns {
  constructor(readonly name: string) {}

  /** Runs argv inside the namespace; never throws on a non-zero exit. */
  async exec(
    argv: readonly string[],
    opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {},
  ): Promise<ExecResult> {
    return runProcess(['ip', 'netns', 'exec', this.name, ...argv], {
      timeoutMs: opts.timeoutMs ?? 30_000,
      ...(opts.env !== undefined ? { env: opts.env } : {}),
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
  }

  /** Like exec, but throws with the command's stderr when it fails. */
  async sh(command: string, opts: { timeoutMs?: number } = {}): Promise<string> {
    const result = await this.exec(['sh', '-c', command], opts);
    if (result.code !== 0)
      throw new Error(
        `in netns ${this.name}: \`${command}\` exited ${result.code}: ${result.stderr.trim()}`,
      );
    return result.stdout;
  }

  /** Starts a long-running process inside the namespace (killed by Lab.destroy()). */
  spawn(argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...opts,
    });
  }
}

export interface Lab {
  id: string;
  client: Netns;
  server: Netns;
  clientIf: string;
  serverIf: string;
  client4: string;
  server4: string;
  client6: string;
  server6: string;
  /** Additional client source addresses (192.0.2.10, .11, …). */
  extraClient4: string[];
  /** Kills every process left in both namespaces, then deletes them (and the veth pair). */
  destroy(): Promise<void>;
}

let counter = 0;

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

/** SIGKILLs every process in namespace `ns` (none, or no such namespace: nothing). */
export async function killAll(ns: string): Promise<void> {
  try {
    const { stdout } = await run('ip', ['netns', 'pids', ns]);
    for (const pid of stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // namespace already gone
  }
}

/** Creates a client/server pair of namespaces. Always `destroy()` it (afterAll). */
export async function createLab(opts: { extraClients?: number } = {}): Promise<Lab> {
  counter += 1;
  const id = `${process.pid.toString(36)}${counter.toString(36)}`;
  const c = `knc${id}`;
  const s = `kns${id}`;
  const clientIf = `vc${id}`;
  const serverIf = `vs${id}`;
  const lab: Lab = {
    id,
    client: new Netns(c),
    server: new Netns(s),
    clientIf,
    serverIf,
    client4: '192.0.2.1',
    server4: '192.0.2.2',
    client6: '2001:db8::1',
    server6: '2001:db8::2',
    extraClient4: Array.from({ length: opts.extraClients ?? 0 }, (_, i) => `192.0.2.${10 + i}`),
    destroy: async () => {
      await Promise.all([killAll(c), killAll(s)]);
      await Promise.all([
        run('ip', ['netns', 'del', c]).catch(() => undefined),
        run('ip', ['netns', 'del', s]).catch(() => undefined),
      ]);
    },
  };
  try {
    await ip('netns', 'add', c);
    await ip('netns', 'add', s);
    await ip(
      'link',
      'add',
      clientIf,
      'netns',
      c,
      'type',
      'veth',
      'peer',
      'name',
      serverIf,
      'netns',
      s,
    );
    for (const [ns, dev, v4, v6] of [
      [lab.client, clientIf, lab.client4, lab.client6],
      [lab.server, serverIf, lab.server4, lab.server6],
    ] as const) {
      await ns.sh(
        [
          'sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0',
          'ip link set lo up',
          `ip addr add ${v4}/24 dev ${dev}`,
          `ip addr add ${v6}/64 dev ${dev} nodad`,
          `ip link set ${dev} up`,
        ].join(' && '),
      );
    }
    for (const extra of lab.extraClient4)
      await lab.client.sh(`ip addr add ${extra}/24 dev ${clientIf}`);
    // Wait (bounded) until the link is up both ways.
    for (let i = 0; i < 50; i++) {
      const ping = await lab.client.exec(['ping', '-c1', '-W1', lab.server4], { timeoutMs: 3000 });
      if (ping.code === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return lab;
  } catch (error) {
    await lab.destroy();
    throw error;
  }
}

/** Polls `check` every `intervalMs` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return check();
}
