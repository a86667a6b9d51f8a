/**
 * The connection to the cluster's store (Redis or Valkey) through node-redis's own client
 * (@redis/client): one connection for commands and scripts, one subscribed to the events
 * channel. Nothing here ever makes a caller wait long: commands fail at once while the
 * store is unreachable (no offline queue) and give up after a deadline (100 ms for
 * anything on a knock's path), and the daemon serves knocks locally meanwhile.
 *
 * It tells once when the store is lost and once when it is back, and calls its
 * `onReconnect` listeners then (the node re-publishes and reconciles).
 */
import { randomBytes } from 'node:crypto';
import { ExitCode, KnockError, type ClusterEndpoint } from '@knock/shared';
import { Keys } from './model.js';

/** The store cannot answer now (unreachable, or slower than the deadline). */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
}

export interface StoreLog {
  info(msg: string): void;
  error(msg: string): void;
}

export interface StoreOptions {
  /** The `Cluster` URL as written (for messages). */
  url: string;
  endpoint: ClusterEndpoint;
  password?: string;
  clusterName: string;
  log: StoreLog;
  /** How long a knock may wait for the store (ms). */
  knockDeadlineMs?: number;
  /** How long the first connection may take before the start fails (ms). */
  connectTimeoutMs?: number;
  /** Delay between reconnection attempts (ms). */
  retryMs?: number;
  /** Called for each message on the events channel. */
  onMessage?: (text: string) => void;
}

/** Oldest store we accept (what the scripts and the client need, with margin). */
export const MIN_REDIS_VERSION = [6, 2] as const;
export const KNOCK_DEADLINE_MS = 100;

/** What we use of a node-redis client. */
interface Client {
  readonly isReady: boolean;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  sendCommand(args: string[]): Promise<unknown>;
  destroy(): void;
  unref(): void;
}

const describe = (error: unknown): string => {
  const e = error as NodeJS.ErrnoException & { errors?: unknown[] };
  if (Array.isArray(e.errors) && e.errors.length > 0) return describe(e.errors[0]);
  return e.message || e.code || String(error);
};

export function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < min.length; i++) {
    const have = parts[i] ?? 0;
    if (Number.isNaN(have)) return false;
    if (have !== min[i]) return have > min[i]!;
  }
  return true;
}

export class ClusterStore {
  readonly keys: Keys;
  /** This process's id on the channel: its own events are not applied twice. */
  readonly src = randomBytes(6).toString('hex');
  readonly url: string;
  readonly knockDeadlineMs: number;
  version = '';
  readonly #opts: StoreOptions;
  #cmd: Client | undefined;
  #sub: Client | undefined;
  #started = false;
  #closing = false;
  #lostSince: number | undefined;
  #reconnectListeners: (() => void)[] = [];
  #reconcileTimer: NodeJS.Timeout | undefined;

  private constructor(opts: StoreOptions) {
    this.#opts = opts;
    this.url = opts.url;
    this.keys = new Keys(opts.clusterName);
    this.knockDeadlineMs = opts.knockDeadlineMs ?? KNOCK_DEADLINE_MS;
  }

  /**
   * Connects (both connections), checks the password and the version, subscribes.
   * Throws a KnockError (ExitCode.cluster) naming the URL and what to do.
   */
  static async connect(opts: StoreOptions): Promise<ClusterStore> {
    const store = new ClusterStore(opts);
    try {
      await store.#open();
    } catch (error) {
      store.close();
      throw error;
    }
    return store;
  }

  /** The store answered the last time we asked and both connections are up. */
  get reachable(): boolean {
    return (
      this.#lostSince === undefined && this.#cmd?.isReady === true && this.#sub?.isReady === true
    );
  }

  /** Since when the store is lost (ms since the epoch), while it is. */
  get lostSince(): number | undefined {
    return this.#lostSince;
  }

  onReconnect(listener: () => void): void {
    this.#reconnectListeners.push(listener);
  }

  async #open(): Promise<void> {
    const { endpoint, password } = this.#opts;
    const retry = this.#opts.retryMs ?? 500;
    const socketBase = {
      connectTimeout: this.#opts.connectTimeoutMs ?? 3000,
      // Before the start succeeded: give up (the start fails with a clear message).
      reconnectStrategy: (_retries: number, cause: Error) =>
        this.#started && !this.#closing ? retry + Math.floor(Math.random() * retry) : cause,
    };
    const socket =
      endpoint.kind === 'unix'
        ? { ...socketBase, path: endpoint.path }
        : endpoint.tls
          ? {
              ...socketBase,
              host: endpoint.host,
              port: endpoint.port,
              tls: true as const,
              servername: endpoint.host,
            }
          : { ...socketBase, host: endpoint.host, port: endpoint.port };
    // Loaded only by a node with `Cluster =` (a plain knock-server never pays for it).
    const { createClient } = await import('@redis/client');
    const cmd = createClient({
      // RESP2 replies (arrays, strings) are what the scripts' callers decode.
      RESP: 2,
      socket,
      database: endpoint.db,
      disableOfflineQueue: true,
      ...(endpoint.username !== undefined ? { username: endpoint.username } : {}),
      ...(password !== undefined ? { password } : {}),
    });
    this.#cmd = cmd as Client;
    cmd.on('error', (error: unknown) => this.#trouble(describe(error)));
    try {
      await withTimeout(cmd.connect(), (this.#opts.connectTimeoutMs ?? 3000) + 500, 'connecting');
    } catch (error) {
      throw this.#startError(error);
    }
    let info: string;
    try {
      info = String(await cmd.sendCommand(['INFO', 'server']));
    } catch (error) {
      throw this.#startError(error);
    }
    this.version = /(?:valkey_version|redis_version):(\S+)/.exec(info)?.[1] ?? '';
    const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '';
    if (!versionAtLeast(redisVersion, MIN_REDIS_VERSION))
      throw new KnockError(
        'cluster.version',
        `the cluster store at ${this.url} is Redis ${redisVersion || '(unknown version)'}: knock-server needs Redis ${MIN_REDIS_VERSION.join('.')} or later`,
        {
          exitCode: ExitCode.cluster,
          hint: 'upgrade it (Debian 12 ships Redis 7.0), or point Cluster at a Valkey or Redis ≥ 6.2',
        },
      );
    const sub = cmd.duplicate();
    this.#sub = sub as Client;
    sub.on('error', (error: unknown) => this.#trouble(describe(error)));
    try {
      await withTimeout(sub.connect(), (this.#opts.connectTimeoutMs ?? 3000) + 500, 'connecting');
      await sub.subscribe(this.keys.channel, (message: string) => this.#opts.onMessage?.(message));
    } catch (error) {
      throw this.#startError(error);
    }
    for (const client of [cmd, sub] as Client[]) client.on('ready', () => this.#ready());
    this.#started = true;
  }

  #startError(error: unknown): KnockError {
    if (error instanceof KnockError) return error;
    const text = describe(error);
    if (/WRONGPASS|invalid username-password|invalid password/i.test(text))
      return new KnockError(
        'cluster.password',
        `the cluster store at ${this.url} refused the password${this.#opts.password === undefined ? '' : ' from Cluster_Password_File'}: ${text}`,
        {
          exitCode: ExitCode.cluster,
          hint: 'put the password of the Redis user (requirepass, or the ACL user named in the URL) in Cluster_Password_File',
        },
      );
    if (/NOAUTH|Authentication required/i.test(text))
      return new KnockError(
        'cluster.password',
        `the cluster store at ${this.url} needs a password: ${text}`,
        {
          exitCode: ExitCode.cluster,
          hint: 'set Cluster_Password_File = /etc/knock/redis.password (mode 0600) in [options]',
        },
      );
    if (/certificate|SSL|TLS|self.signed|altnames/i.test(text))
      return new KnockError(
        'cluster.unreachable',
        `cannot reach the cluster store at ${this.url}: TLS: ${text}`,
        {
          exitCode: ExitCode.cluster,
          hint: "rediss:// checks Redis's certificate against the system's CAs and the host name in the URL; for a private CA start knock-server with NODE_EXTRA_CA_CERTS=/path/to/ca.pem (Environment= in the systemd unit)",
        },
      );
    return new KnockError(
      'cluster.unreachable',
      `cannot reach the cluster store at ${this.url}: ${text}`,
      {
        exitCode: ExitCode.cluster,
        hint: 'is Redis running and listening there? Check Cluster in [options] (knock-server cluster status -c CONFIG tries it)',
      },
    );
  }

  #trouble(reason: string): void {
    if (!this.#started || this.#closing) return;
    if (this.#lostSince !== undefined) return;
    this.#lostSince = Date.now();
    this.#opts.log.error(
      `cluster: lost the store at ${this.url} (${reason}); serving knocks locally until it is back`,
    );
  }

  /** A connection is (again) ready: if both are and we had lost the store, it is back. */
  #ready(): void {
    if (this.#closing) return;
    if (this.#lostSince === undefined) {
      // A connection came back before we noticed it was gone (a quick restart): reconcile anyway.
      this.#scheduleReconnect();
      return;
    }
    if (!(this.#cmd?.isReady && this.#sub?.isReady)) return;
    void this.#checkBack();
  }

  async #checkBack(): Promise<void> {
    try {
      await this.call(['PING'], 1000, true);
    } catch {
      return; // still not answering; the heartbeat tries again
    }
    if (this.#lostSince === undefined || this.#closing) return;
    const seconds = ((Date.now() - this.#lostSince) / 1000).toFixed(1);
    this.#lostSince = undefined;
    this.#opts.log.info(
      `cluster: the store at ${this.url} is back after ${seconds} s; re-publishing and reconciling`,
    );
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#reconcileTimer) return;
    this.#reconcileTimer = setTimeout(() => {
      this.#reconcileTimer = undefined;
      if (this.#closing || !this.reachable) return;
      for (const listener of this.#reconnectListeners) listener();
    }, 50);
  }

  /**
   * The heartbeat's probe: a PING with a generous deadline. Two in a row that fail mark
   * the store lost (a partition leaves the connection open but silent); one that works
   * after that brings it back.
   */
  #probeFailures = 0;
  async probe(deadlineMs = 1000): Promise<number | undefined> {
    const t0 = performance.now();
    try {
      await this.call(['PING'], deadlineMs, true);
    } catch (error) {
      this.#probeFailures += 1;
      if (this.#probeFailures >= 2) this.#trouble((error as Error).message);
      return undefined;
    }
    this.#probeFailures = 0;
    if (this.#lostSince !== undefined && this.#cmd?.isReady && this.#sub?.isReady)
      void this.#checkBack();
    return performance.now() - t0;
  }

  /**
   * Runs one command. Throws StoreUnavailable at once while the store is lost or a
   * connection is down, or after `deadlineMs`; other errors (a script's) as they are.
   */
  async call(
    args: string[],
    deadlineMs = this.knockDeadlineMs,
    evenIfLost = false,
  ): Promise<unknown> {
    const cmd = this.#cmd;
    if (!cmd?.isReady || this.#closing)
      throw new StoreUnavailable('the cluster store is unreachable');
    if (!evenIfLost && this.#lostSince !== undefined)
      throw new StoreUnavailable('the cluster store is unreachable');
    try {
      return await withTimeout(cmd.sendCommand(args), deadlineMs, args[0] ?? 'command');
    } catch (error) {
      if (error instanceof StoreUnavailable) throw error;
      const text = describe(error);
      if (/offline|closed|ECONN|EPIPE|socket/i.test(text)) throw new StoreUnavailable(text);
      throw error;
    }
  }

  /** Runs a script with ARGV = [prefix, ...args]. */
  eval(script: string, args: readonly (string | number)[], deadlineMs?: number): Promise<unknown> {
    return this.call(['EVAL', script, '0', this.keys.prefix, ...args.map(String)], deadlineMs);
  }

  close(): void {
    this.#closing = true;
    if (this.#reconcileTimer) clearTimeout(this.#reconcileTimer);
    for (const client of [this.#sub, this.#cmd]) {
      try {
        client?.destroy();
      } catch {
        // already closed
      }
    }
  }

  /** A short-lived command (fw, cluster status): its sockets must not keep the process alive. */
  unref(): void {
    this.#cmd?.unref();
    this.#sub?.unref();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailable(`no answer to ${what} within ${ms} ms`)),
      ms,
    );
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
