/**
 * Running the real daemons (the built knock-server, Debian's knockd) inside a lab's
 * server namespace, and reading what they did.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor, type Lab } from './netns.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER_BIN = join(ROOT, 'server', 'bin', 'knock-server.js');
export const SERVER_ENTRY = join(ROOT, 'server', 'dist', 'bin', 'knock-server.js');
export const KNOCKD = '/usr/sbin/knockd';

let built: Promise<void> | undefined;

/** Builds the server once per test process (incremental: seconds when up to date). */
export function buildServer(): Promise<void> {
  built ??= new Promise<void>((resolve, reject) => {
    // Test files run in parallel workers: one build at a time (flock), the others then
    // find it up to date instead of rewriting dist/ under a running daemon.
    mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
    const lock = join(ROOT, 'node_modules', '.cache', 'knock-server-build.lock');
    const child = spawn('flock', [lock, 'npx', 'tsc', '-b', 'server'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      // Errors in other projects do not matter as long as the server entry exists.
      if (existsSync(SERVER_ENTRY)) resolve();
      else reject(new Error(`the server did not build:\n${output}`));
    });
  });
  return built;
}

/** A scratch directory for one daemon: config, log, pidfile, the commands' record. */
export class Workdir {
  readonly path = mkdtempSync(join(tmpdir(), 'knock-daemon-'));
  file(name: string): string {
    return join(this.path, name);
  }
  write(name: string, text: string): string {
    const path = this.file(name);
    writeFileSync(path, text);
    return path;
  }
  read(name: string): string {
    try {
      return readFileSync(this.file(name), 'utf8');
    } catch {
      return '';
    }
  }
  lines(name: string): string[] {
    return this.read(name)
      .split('\n')
      .filter((l) => l !== '');
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** A daemon process with its output collected line by line. */
export class RunningDaemon {
  readonly lines: string[] = [];
  readonly errors: string[] = [];
  exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const parts = out.split('\n');
      out = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const parts = err.split('\n');
      err = parts.pop() ?? '';
      this.errors.push(...parts);
    });
    this.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve(this.exitCode);
      }),
    );
  }

  /** Waits (bounded) for a stdout line matching `pattern`; returns it. */
  async line(pattern: RegExp | string, timeoutMs = 10_000, from = 0): Promise<string> {
    const test = (l: string) => (typeof pattern === 'string' ? l === pattern : pattern.test(l));
    const ok = await waitFor(
      () => this.lines.slice(from).some(test) || this.exitCode !== undefined,
      timeoutMs,
      20,
    );
    const found = this.lines.slice(from).find(test);
    if (!ok || found === undefined)
      throw new Error(
        `no line ${String(pattern)} within ${timeoutMs} ms${this.exitCode !== undefined ? ` (exited ${this.exitCode})` : ''}\n` +
          `stdout:\n${this.lines.join('\n')}\nstderr:\n${this.errors.join('\n')}`,
      );
    return found;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 5000): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/**
 * Starts the built knock-server in the lab's server namespace. `ip netns exec` execs
 * the program (no fork), so signals sent to the child reach the daemon itself.
 */
export function startKnockServer(
  lab: Lab,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): RunningDaemon {
  return new RunningDaemon(
    lab.server.spawn([process.execPath, SERVER_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    }),
  );
}

export function startKnockd(lab: Lab, args: string[]): RunningDaemon {
  return new RunningDaemon(lab.server.spawn([KNOCKD, ...args]));
}

/** A command that appends `DOOR IP` to the record file: what fired, for whom. */
export const record = (work: Workdir, door: string, what = 'open'): string =>
  `/bin/echo ${what} ${door} %IP% >> ${work.file('fired')}`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One step of a packet script, played from the lab's client namespace. */
export type Step =
  /** Debian's knock client with these arguments (host included). */
  | { knock: string[] }
  /**
   * One TCP segment from `src` to the server's IPv4 address, exact flags (hping3: S A F R
   * P U). The source port is random unless given: hping3 seeds its own from the clock's
   * seconds, and two identical SYNs are, on the wire, a retransmission.
   */
  | { tcp: number; src: string; flags?: string; to?: string; sport?: number; seqNo?: number }
  /** One UDP datagram from `src` (nc). */
  | { udp: number; src: string; to?: string }
  /** A TCP connect attempt with bash's /dev/tcp (kernel SYN, retransmissions and all). */
  | { devtcp: number; to: string }
  | { sleep: number };

/** Plays the steps in order; each tool must succeed in sending (not in connecting). */
export async function play(
  lab: Pick<Lab, 'client' | 'server4'>,
  steps: readonly Step[],
): Promise<void> {
  for (const step of steps) {
    if ('sleep' in step) {
      await sleep(step.sleep);
      continue;
    }
    let argv: string[];
    let input: string | undefined;
    if ('knock' in step) argv = ['knock', ...step.knock];
    else if ('tcp' in step)
      argv = [
        'hping3',
        '-q',
        '-c',
        '1',
        ...(step.flags ?? 'S').split('').map((f) => `-${f}`),
        '-k',
        '-s',
        String(step.sport ?? 20000 + Math.floor(Math.random() * 40000)),
        ...(step.seqNo !== undefined ? ['-M', String(step.seqNo)] : []),
        '-p',
        String(step.tcp),
        '-a',
        step.src,
        step.to ?? lab.server4,
      ];
    else if ('udp' in step) {
      // hping3 sends exactly one datagram; `nc -u -w0` can exit before reading its stdin
      // on a loaded machine and send nothing.
      argv = [
        'hping3',
        '-q',
        '-2',
        '-c',
        '1',
        '-d',
        '1',
        '-p',
        String(step.udp),
        '-a',
        step.src,
        step.to ?? lab.server4,
      ];
    } else
      argv = [
        'bash',
        '-c',
        `timeout 1 bash -c 'exec 3<>/dev/tcp/${step.to}/${step.devtcp}' 2>/dev/null; true`,
      ];
    const result = await lab.client.exec(argv, { timeoutMs: 15_000, ...(input ? { input } : {}) });
    // hping3 exits 1 when no reply came (a dropped port): the packet went out all the same.
    if (result.code !== 0 && !(argv[0] === 'hping3' && result.code === 1))
      throw new Error(`${argv.join(' ')} exited ${result.code}: ${result.stderr}`);
    await sleep(15);
  }
}

/**
 * Waits (bounded) until the server's veth is up with carrier: the daemon reads its
 * addresses at start, and an interface without carrier is not listed with them.
 */
export async function serverLinkReady(lab: Lab): Promise<void> {
  const ready = await waitFor(async () => {
    const r = await lab.server.exec(['ip', '-o', 'link', 'show', 'dev', lab.serverIf]);
    return r.code === 0 && r.stdout.includes('state UP') && !r.stdout.includes('NO-CARRIER');
  }, 5000);
  if (!ready) throw new Error(`${lab.serverIf} did not come up`);
}
