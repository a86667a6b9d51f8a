/**
 * The test side of capture-probe.ts: starts it inside a namespace and turns its JSON
 * lines into awaitable replies and a list of decoded events.
 */
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { KnockEvent } from '../../../server/src/capture/packet-source.js';
import { waitFor, type Netns } from '../../helpers/netns.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface ProbeError {
  code?: string;
  exitCode?: number;
  message: string;
  hint?: string;
}

export interface RawPacket {
  nbytes: number;
  truncated: boolean;
  time: number;
  wireLength: number;
}

type Reply = { type: 'ok'; id: number } & Record<string, unknown>;

export class Probe {
  readonly events: KnockEvent[] = [];
  readonly errors: ProbeError[] = [];
  readonly raw: RawPacket[] = [];
  /** Address sets reported by a 'watch'. */
  readonly addresses: { v4: string[]; v6: string[] }[] = [];
  /** How many 'block' stalls have ended. */
  unblocked = 0;
  /** How the probe process ended (a signal's name, or its exit code), once it has. */
  exit: string | undefined;
  private readonly pending = new Map<
    number,
    { resolve: (r: Reply) => void; reject: (e: ProbeError) => void }
  >();
  private nextId = 1;
  private stderr = '';
  private readonly ready: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    let markReady!: () => void;
    this.ready = new Promise((resolve) => (markReady = resolve));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line) as Record<string, unknown>;
      } catch {
        this.stderr += `${line}\n`;
        return;
      }
      switch (message.type) {
        case 'ready':
          markReady();
          break;
        case 'event':
          this.events.push(message.event as KnockEvent);
          break;
        case 'raw':
          this.raw.push(message as unknown as RawPacket);
          break;
        case 'addresses':
          this.addresses.push(message.addresses as { v4: string[]; v6: string[] });
          break;
        case 'unblocked':
          this.unblocked++;
          break;
        case 'error':
          this.errors.push(message.error as ProbeError);
          break;
        case 'ok':
        case 'fail': {
          const waiter = this.pending.get(message.id as number);
          this.pending.delete(message.id as number);
          if (message.type === 'ok') waiter?.resolve(message as Reply);
          else waiter?.reject(message.error as ProbeError);
        }
      }
    });
    child.on('exit', (code, signal) => (this.exit = signal ?? `exit code ${code}`));
    child.on('close', () => {
      for (const waiter of this.pending.values())
        waiter.reject({ message: `probe exited: ${this.stderr}` });
    });
  }

  /** Sends a command; resolves with the reply, rejects with the error it reported. */
  async call(op: string, args: Record<string, unknown> = {}): Promise<Reply> {
    await this.ready;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** Waits (bounded) for an event matching `match`, and returns it. */
  async event(match: (e: KnockEvent) => boolean, timeoutMs = 15_000): Promise<KnockEvent> {
    await waitFor(() => this.events.some(match), timeoutMs, 20);
    const found = this.events.find(match);
    if (!found)
      throw new Error(
        `no matching capture event in ${timeoutMs} ms; got ${JSON.stringify(this.events)}; stderr: ${this.stderr}`,
      );
    return found;
  }

  /** For a failure message: whether the probe still runs, and what it reported. */
  state(): string {
    return `${this.exit === undefined ? 'running' : `ended (${this.exit})`}; errors: ${JSON.stringify(this.errors)}; stderr: ${this.stderr.trim() || '(none)'}`;
  }

  clear(): void {
    this.events.length = 0;
    this.errors.length = 0;
    this.raw.length = 0;
  }

  /** Ends the probe (closing stdin closes its captures) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

/** Starts capture-probe.ts inside `ns` (prefix adds a wrapper, e.g. setpriv). */
export function startProbe(ns: Netns, prefix: readonly string[] = []): Probe {
  const child = ns.spawn(
    [
      ...prefix,
      process.execPath,
      '--conditions=@knock/source',
      '--import',
      join(here, 'ts-register.mjs'),
      join(here, 'capture-probe.ts'),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  return new Probe(child);
}
