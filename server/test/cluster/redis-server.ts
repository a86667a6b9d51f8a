/**
 * A private redis-server for a test: its own directory, a unix socket (and a TCP port when
 * asked), no persistence unless asked; never the system service. Stopped by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_SERVER = '/usr/bin/redis-server';

export const redisSkipReason: string | undefined = (() => {
  try {
    accessSync(REDIS_SERVER, constants.X_OK);
    return undefined;
  } catch {
    return 'needs redis-server (apt-get install redis-server; scripts/setup.sh installs it)';
  }
})();

export interface RedisOptions {
  /** requirepass */
  password?: string;
  /** Also listen on TCP: host and port. */
  tcp?: { host: string; port: number };
  /** Directory for the socket (default: a fresh one). */
  dir?: string;
  /** Run it through this argv prefix (e.g. ['ip', 'netns', 'exec', NS]). */
  wrap?: string[];
}

export class RedisServer {
  readonly dir: string;
  readonly socket: string;
  child: ChildProcess | undefined;
  #ownDir: boolean;
  output = '';

  constructor(readonly opts: RedisOptions = {}) {
    this.#ownDir = opts.dir === undefined;
    this.dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'knock-redis-'));
    this.socket = join(this.dir, 'redis.sock');
  }

  get url(): string {
    return `unix://${this.socket}`;
  }

  async start(): Promise<void> {
    const args = [
      '--port',
      String(this.opts.tcp?.port ?? 0),
      ...(this.opts.tcp ? ['--bind', this.opts.tcp.host, '--protected-mode', 'no'] : []),
      '--unixsocket',
      this.socket,
      '--unixsocketperm',
      '700',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--daemonize',
      'no',
      ...(this.opts.password ? ['--requirepass', this.opts.password] : []),
    ];
    const argv = [...(this.opts.wrap ?? []), REDIS_SERVER, ...args];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    child.stdout.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.output += d.toString()));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      if (await canConnect(this.socket)) return;
      await new Promise((r) => setTimeout(r, 30));
    }
    throw new Error(`redis-server did not start:\n${this.output}`);
  }

  /** SIGKILL (a crash): no shutdown, the socket file stays. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('close', r));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    if (this.#ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
