/**
 * A long-lived `nft -i` for the grants and bans other nodes publish: spawning `nft` costs
 * milliseconds (more on a busy machine), which is most of the fan-out; writing one line to
 * a running nft costs about one.
 *
 * `nft -i` runs each line as one transaction (commands joined with ` ; `). Success prints
 * nothing, so each transaction is followed by a line that is not a command, an ack token:
 * nft reports it on stderr ("Error: syntax error …" and the token), after any error of the
 * transaction before it, on the same stream. Between two tokens, one `Error:` is the
 * token's own; more means the transaction failed.
 *
 * Anything unexpected (nft missing, dead, silent for 2 s) rejects, and the caller falls
 * back to the firewall backend (a spawned `nft -f`), which reports errors properly.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Pending {
  token: string;
  waiters: Waiter[];
  timer: NodeJS.Timeout;
}

/** Transactions queued in one event-loop turn go to nft as one (a burst of grants). */
const MAX_BATCH = 200;

export type SpawnNft = () => ChildProcessWithoutNullStreams;

const defaultSpawn: SpawnNft = () => spawn('nft', ['-i'], { stdio: ['pipe', 'pipe', 'pipe'] });

export class NftSession {
  readonly #spawn: SpawnNft;
  readonly #timeoutMs: number;
  #child: ChildProcessWithoutNullStreams | undefined;
  #pending: Pending[] = [];
  #stderr = '';
  #seq = 0;
  #queue: { line: string; waiter: Waiter }[] = [];
  #flushScheduled = false;
  #closed = false;
  /** nft failed to start or died this many times in a row: past 3, the session is not used. */
  #failures = 0;

  constructor(spawnNft: SpawnNft = defaultSpawn, timeoutMs = 2000) {
    this.#spawn = spawnNft;
    this.#timeoutMs = timeoutMs;
  }

  /** Runs `text` (lines of `nft -f` syntax) as one transaction. */
  apply(text: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('nft session closed'));
    if (this.#failures >= 3) return Promise.reject(new Error('nft -i keeps failing: not used'));
    const line = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .join(' ; ');
    if (line === '') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ line, waiter: { resolve, reject } });
      if (this.#flushScheduled) return;
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    });
  }

  /**
   * Writes what was queued: one line per batch of up to MAX_BATCH transactions (nft runs
   * a line as one transaction), each followed by its token. A failed batch rejects all its
   * callers, who fall back to the backend (it retries changes one by one).
   */
  #flush(): void {
    this.#flushScheduled = false;
    const queued = this.#queue.splice(0);
    if (queued.length === 0) return;
    let child: ChildProcessWithoutNullStreams;
    try {
      child = this.#ensure();
    } catch (error) {
      for (const q of queued) q.waiter.reject(error as Error);
      return;
    }
    for (let i = 0; i < queued.length; i += MAX_BATCH) {
      const batch = queued.slice(i, i + MAX_BATCH);
      const token = `knock-ack-${process.pid}-${++this.#seq}`;
      const timer = setTimeout(
        () => this.#fail(new Error('nft -i did not answer in time')),
        this.#timeoutMs,
      );
      this.#pending.push({ token, waiters: batch.map((q) => q.waiter), timer });
      child.stdin.write(`${batch.map((q) => q.line).join(' ; ')}\n${token}\n`);
    }
  }

  close(): void {
    this.#closed = true;
    for (const q of this.#queue.splice(0)) q.waiter.reject(new Error('nft session closed'));
    this.#fail(new Error('nft session closed'));
  }

  #ensure(): ChildProcessWithoutNullStreams {
    if (this.#child) return this.#child;
    const child = this.#spawn();
    this.#child = child;
    this.#stderr = '';
    // Events of an nft already replaced (killed after a timeout) concern nobody.
    const mine = (run: () => void) => () => {
      if (this.#child === child) run();
    };
    child.stdout.on('data', () => undefined);
    child.stderr.on('data', (d: Buffer) => mine(() => this.#onStderr(d.toString()))());
    child.on('error', (error) => mine(() => this.#fail(error))());
    child.on(
      'close',
      mine(() => this.#fail(new Error('nft -i exited'))),
    );
    child.stdin.on('error', (error) => mine(() => this.#fail(error))());
    return child;
  }

  #onStderr(chunk: string): void {
    this.#stderr += chunk;
    for (;;) {
      const first = this.#pending[0];
      if (!first) {
        // Nothing waits: keep only a possible partial line.
        this.#stderr = this.#stderr.slice(this.#stderr.lastIndexOf('\n') + 1);
        return;
      }
      const at = this.#stderr.indexOf(`${first.token}\n`);
      if (at < 0) return;
      const before = this.#stderr.slice(0, at);
      this.#stderr = this.#stderr.slice(at + first.token.length + 1);
      this.#pending.shift();
      clearTimeout(first.timer);
      const errors = before.split('Error:').length - 1;
      this.#failures = 0;
      const failure =
        errors <= 1
          ? undefined
          : new Error(`nft: ${before.split('\n').find((l) => l.startsWith('Error:')) ?? 'error'}`);
      for (const w of first.waiters) {
        if (failure) w.reject(failure);
        else w.resolve();
      }
    }
  }

  #fail(error: Error): void {
    const child = this.#child;
    this.#child = undefined;
    if (child) this.#failures += 1;
    for (const p of this.#pending.splice(0)) {
      clearTimeout(p.timer);
      for (const w of p.waiters) w.reject(error);
    }
    if (child && child.exitCode === null) child.kill('SIGKILL');
  }
}
