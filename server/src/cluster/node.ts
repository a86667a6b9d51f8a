/**
 * One knock-server node of a cluster: it publishes its grants, bans and trust, applies
 * everyone else's to its own kernel sets with the time they have left, claims single-use
 * items cluster-wide, writes a heartbeat, and reconciles with the store whenever it
 * (re)connects.
 *
 * Knocks never wait for it: a grant is applied locally first and published after; only a
 * single-use claim is awaited, and for at most the knock deadline (100 ms).
 *
 * Reconciliation (at start, after every reconnection, and every 30 s):
 *   1. read the store's grants, bans, trust and tombstones (one script, one round trip);
 *   2. drop from the local sets what the cluster has revoked since (a tombstone newer than
 *      what this node knows of the entry), and nothing else;
 *   3. re-publish the local entries the store lacks (a knock served while it was away, or a
 *      store restarted empty), unless a later revocation is recorded;
 *   4. apply the store's entries the local sets lack (or hold for less time), with the
 *      time they have left.
 *
 * (Over 400 lines: one class, since every part reads and writes the same state: what this
 * node knows of each entry and when (the order of revocations), its clock offset to the
 * store, the trusted set, the publications in flight. Around it: the Firewall wrapper in
 * cluster-firewall.ts, the wire format in model.ts, the Lua scripts in scripts.ts, the
 * connection in store.ts.)
 */
import { createHash } from 'node:crypto';
import { ExitCode, KnockError, type ClusterFailMode } from '@knock/shared';
import type {
  EntryOrigin,
  Firewall,
  FirewallEntry,
  FirewallSpec,
  PortSpec,
} from '../firewall/types.js';
import {
  decodeBan,
  decodeEvent,
  decodeGrant,
  decodeHeartbeat,
  decodeTrust,
  grantId,
  parseGrantId,
  type ClusterBan,
  type ClusterEvent,
  type ClusterGrant,
  type EntryKind,
  type NodeHeartbeat,
} from './model.js';
import {
  CLAIM,
  FLUSH,
  HEARTBEAT,
  NODES,
  PUT,
  REVOKE,
  SNAPSHOT,
  STOPPED,
  TRUST,
  UNTRUST,
} from './scripts.js';
import type { SingleUseClaim, SingleUseStore, SingleUseVerdict } from './single-use.js';
import { ClusterFirewall } from './cluster-firewall.js';
import { StoreUnavailable, type ClusterStore } from './store.js';
import type { ClusterHealth } from '../daemon/daemon.js';

/**
 * A faster way to apply the grants and bans other nodes publish (a long-lived nft); when
 * it fails, the firewall backend does it.
 */
export interface FastApply {
  grant(address: string, ports: PortSpec[], seconds: number): Promise<void>;
  ban(address: string, seconds: number): Promise<void>;
  close(): void;
}

export interface ClusterLog {
  info(msg: string): void;
  error(msg: string): void;
}

export interface ClusterNodeOptions {
  store: ClusterStore;
  node: string;
  failMode: ClusterFailMode;
  version: string;
  log: ClusterLog;
  heartbeatMs?: number;
  reconcileMs?: number;
  /**
   * true (the daemon): grants are published in the background, a knock never waits;
   * false (fw on the command line): each change waits for the store and fails if it cannot.
   */
  background?: boolean;
}

interface Known {
  node: string;
  door?: string;
  at: number;
}

/**
 * Whether a grant or ban the store has (with `ttl` ms left, -1 for none) must be applied
 * here: not when this node has it already with about as long to run (1.5 s of slack), nor
 * when it is about to expire anyway.
 */
function needsApplying(mine: { remaining?: number } | undefined, ttl: number): boolean {
  if (mine && (mine.remaining === undefined || (ttl !== -1 && mine.remaining * 1000 >= ttl - 1500)))
    return false;
  return ttl === -1 || ttl >= 500;
}

/** A snapshot of the store, decoded; junk is reported and left out. */
export interface ClusterSnapshot {
  grants: Map<string, { entry: ClusterGrant; ttl: number }>;
  bans: Map<string, { entry: ClusterBan; ttl: number }>;
  trusts: Map<string, { node: string; at: number }>;
  /** `grant:<id>` / `ban:<addr>` → revocation time. */
  gones: Map<string, number>;
}

export interface NodeStatus {
  name: string;
  heartbeat?: NodeHeartbeat;
  /** ms left before the heartbeat expires; negative: expired (gone or cut off). */
  expiresInMs: number;
  junk?: string;
}

const SNAPSHOT_DEADLINE_MS = 5000;
const CLI_DEADLINE_MS = 3000;
const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));

export class ClusterNode implements SingleUseStore {
  readonly name: string;
  readonly store: ClusterStore;
  readonly #opts: ClusterNodeOptions;
  readonly #log: ClusterLog;
  readonly #started = Date.now();
  #local: Firewall | undefined;
  #spec: FirewallSpec | undefined;
  /** What this node knows of each entry it holds: who made it, when. `grant:<id>`, `ban:<addr>`. */
  readonly #known = new Map<string, Known>();

  /** Notes who made a grant or ban (for `fw list` and for what reconciliation may drop). */
  #remember(key: string, entry: { node: string; at: number; door?: string }): void {
    this.#known.set(key, {
      node: entry.node,
      at: entry.at,
      ...(entry.door !== undefined ? { door: entry.door } : {}),
    });
  }
  /** Trusted networks received from the cluster (added to every setup). */
  readonly #trusts = new Set<string>();
  readonly #usedListeners = new Set<(scope: string, id: string, node: string) => void>();
  /** Claims accepted while the store was unreachable (Cluster_Fail = open), recorded once it is back. */
  readonly #offlineClaims: SingleUseClaim[] = [];
  /** Applying events: grants and bans run together (nft batches them), anything else after them. */
  #batch: Promise<unknown>[] = [];
  #barrier: Promise<unknown> = Promise.resolve();
  #heartbeat: NodeJS.Timeout | undefined;
  #reconcileTimer: NodeJS.Timeout | undefined;
  #reconciling: Promise<void> | undefined;
  #reconcileAgain = false;
  #lagMs: number | undefined;
  /** The store's clock minus ours (ms), from the last heartbeat. */
  #clockOffset: number | undefined;
  #junkSeen = new Map<string, number>();
  #noFirewallLogged = false;
  #firewallReady = false;
  #fast: FastApply | undefined;
  #beating: Promise<void> | undefined;
  #stopping = false;
  #closed = false;

  constructor(opts: ClusterNodeOptions) {
    this.#opts = opts;
    this.name = opts.node;
    this.store = opts.store;
    this.#log = opts.log;
    opts.store.onReconnect(() => void this.reconcile());
  }

  warn(text: string): void {
    this.#log.error(text);
  }

  /** The daemon (changes published in the background), not fw on the command line. */
  get background(): boolean {
    return this.#opts.background !== false;
  }

  get failMode(): ClusterFailMode {
    return this.#opts.failMode;
  }

  /** The fan-out round trip measured by the last heartbeat (ms). */
  get lagMs(): number | undefined {
    return this.#lagMs;
  }

  /** For `knock-server status` (the daemon's snapshot): no I/O. */
  health(): ClusterHealth {
    const lostSince = this.store.lostSince;
    return {
      url: this.store.url,
      node: this.name,
      reachable: this.store.reachable,
      ...(lostSince !== undefined ? { lostSince } : {}),
      ...(this.#lagMs !== undefined ? { lagMs: this.#lagMs } : {}),
      fail: this.failMode,
    };
  }

  /** Wraps this node's firewall: every change also goes to the cluster. */
  attach(local: Firewall, fast?: FastApply): Firewall {
    this.#local = local;
    this.#fast?.close();
    this.#fast = fast;
    return new ClusterFirewall(local, this);
  }

  /** Heartbeats and the periodic reconciliation (the daemon; not fw on the command line). */
  startTimers(): void {
    const every = this.#opts.heartbeatMs ?? 2000;
    const beat = () => {
      // One at a time: a slow store must not pile heartbeats up.
      if (this.#beating) return;
      this.#beating = this.#beat().finally(() => (this.#beating = undefined));
    };
    beat();
    this.#heartbeat = setInterval(beat, every);
    this.#reconcileTimer = setInterval(
      () => void this.reconcile(),
      this.#opts.reconcileMs ?? 30_000,
    );
  }

  close(): void {
    this.#closed = true;
    this.#fast?.close();
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#reconcileTimer) clearInterval(this.#reconcileTimer);
    this.store.close();
  }

  /**
   * The daemon's clean stop: its heartbeat says "stopped" (so `cluster status` does not
   * report a lost node), within 300 ms at most, then the connections close.
   */
  async stop(): Promise<void> {
    if (this.#closed || this.#stopping) return;
    this.#stopping = true;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    // A heartbeat still on its way would land after the last one and undo it.
    await this.#beating;
    if (this.#heartbeat && this.store.reachable) {
      const last: NodeHeartbeat = {
        node: this.name,
        pid: process.pid,
        version: this.#opts.version,
        started: this.#started,
        at: Date.now(),
        src: this.store.src,
        stopped: true,
      };
      await this.store.eval(STOPPED, [this.name, JSON.stringify(last)], 300).catch(() => undefined);
    }
    this.close();
  }

  // --- messages ----------------------------------------------------------------------

  /** Every message on the channel (wired by the store's onMessage). */
  onMessage(text: string): void {
    if (this.#closed) return;
    const event = decodeEvent(text);
    if (typeof event === 'string') {
      this.#junk(`a message on ${this.store.keys.channel}`, event);
      return;
    }
    if (event.op === 'ping') {
      if (event.src === this.store.src) this.#lagMs = Date.now() - event.t;
      return;
    }
    if (event.src === this.store.src) return; // ours, applied already
    this.#apply(event);
  }

  #apply(event: Exclude<ClusterEvent, { op: 'ping' }>): void {
    if (event.op === 'used') {
      for (const listener of this.#usedListeners) listener(event.scope, event.id, event.node);
      return;
    }
    const local = this.#local;
    // Before the first setup: the reconciliation that follows it catches up.
    if (!this.#firewallReady) return;
    if (!local || local.kind === 'none') {
      if (!this.#noFirewallLogged) {
        this.#noFirewallLogged = true;
        this.#log.error(
          "cluster: this node has no firewall backend (Firewall = none): the cluster's grants and bans are not applied here",
        );
      }
      return;
    }
    const fail = (what: string) => (error: unknown) =>
      this.#log.error(`cluster: could not apply ${what} here: ${(error as Error).message}`);
    // A grant or ban: through the fast path when there is one, else (or when it fails) locally.
    const add = (what: string, run: (to: Omit<FastApply, 'close'>) => Promise<void>) => {
      const fast = this.#fast;
      void this.#together(() =>
        (fast ? run(fast).catch(() => run(local)) : run(local)).catch(fail(what)),
      );
    };
    switch (event.op) {
      case 'grant': {
        const { entry } = event;
        this.#remember(`grant:${event.id}`, entry);
        const ports: PortSpec[] = [{ protocol: entry.protocol, port: entry.port }];
        const left = this.#left(event.ttl, event.t);
        if (left === undefined) return;
        const secs = left === 0 ? 0 : seconds(left);
        add(`the grant of ${event.id}`, (to) => to.grant(entry.address, ports, secs));
        return;
      }
      case 'ban': {
        const { entry } = event;
        this.#remember(`ban:${event.id}`, entry);
        const left = this.#left(event.ttl, event.t);
        if (left === undefined) return;
        const secs = left === 0 ? 0 : seconds(left);
        add(`the ban of ${event.id}`, (to) => to.ban(entry.address, secs));
        return;
      }
      case 'revoke':
        this.#forget(event.kind, event.address);
        void this.#after(() =>
          (event.kind === 'grant' ? local.revoke(event.address) : local.unban(event.address)).catch(
            fail(`the revocation of ${event.address}`),
          ),
        );
        return;
      case 'flush':
        for (const key of [...this.#known.keys()])
          if (key.startsWith(`${event.kind}:`)) this.#known.delete(key);
        void this.#after(() =>
          (event.kind === 'grant' ? local.flushGrants() : local.flushBans()).catch(
            fail(`the flush of every ${event.kind}`),
          ),
        );
        return;
      case 'trust':
        this.#trusts.add(event.entry.address);
        void this.#after(() =>
          local.trust(event.entry.address).catch(fail(`the trust of ${event.entry.address}`)),
        );
        return;
      case 'untrust':
        if (this.#trusts.delete(event.address))
          void this.#after(() => this.#resetup().catch(fail(`untrust ${event.address}`)));
        return;
    }
  }

  /**
   * Time left (ms) of an entry published with `ttl` at the store's time `t`: the delay
   * since is subtracted (0 = no expiry; undefined = expired already).
   */
  #left(ttl: number, t: number | undefined): number | undefined {
    if (ttl === 0) return 0;
    if (t === undefined || this.#clockOffset === undefined) return ttl;
    const late = Math.max(0, Date.now() + this.#clockOffset - t);
    return ttl - late > 250 ? ttl - late : undefined;
  }

  /** Measures the store's clock against ours (TIME, halfway through the round trip). */
  #setOffset(reply: unknown, before: number, after: number): void {
    if (!Array.isArray(reply) || reply.length < 2) return;
    const storeMs = Number(reply[0]) * 1000 + Math.floor(Number(reply[1]) / 1000);
    if (Number.isFinite(storeMs)) this.#clockOffset = storeMs - (before + after) / 2;
  }

  #forget(kind: EntryKind, address: string): void {
    if (kind === 'ban') this.#known.delete(`ban:${address}`);
    else
      for (const key of [...this.#known.keys()])
        if (key.startsWith(`grant:${address}|`)) this.#known.delete(key);
  }

  #together<T>(run: () => Promise<T>): Promise<T> {
    const done = this.#barrier.then(run);
    this.#batch.push(done.catch(() => undefined));
    return done;
  }

  #after<T>(run: () => Promise<T>): Promise<T> {
    const previous = [...this.#batch];
    const done = Promise.all(previous).then(run);
    this.#barrier = done.catch(() => undefined);
    this.#batch = [this.#barrier];
    return done;
  }

  /** Waits until every event received so far is applied (tests, reconciliation). */
  async settled(): Promise<void> {
    await Promise.all(this.#batch);
  }

  /** Junk in the store: one log line per key and reason (again after a minute), never a throw. */
  #junk(where: string, reason: string): void {
    const key = `${where}\0${reason}`;
    const now = Date.now();
    const last = this.#junkSeen.get(key);
    if (last !== undefined && now - last < 60_000) return;
    this.#junkSeen.set(key, now);
    if (this.#junkSeen.size > 1000) this.#junkSeen.clear();
    this.#log.error(`cluster: ignoring ${where}: ${reason}`);
  }

  // --- publishing --------------------------------------------------------------------

  /** Runs a change in the store: in the background for the daemon, awaited for fw. */
  async #publish(what: string, run: () => Promise<unknown>): Promise<void> {
    if (this.#opts.background !== false) {
      run().catch((error: unknown) => {
        // Unreachable: the next reconciliation re-publishes it (the kernel still has it).
        if (!(error instanceof StoreUnavailable))
          this.#log.error(`cluster: could not publish ${what}: ${(error as Error).message}`);
      });
      return;
    }
    try {
      await run();
    } catch (error) {
      throw new KnockError(
        'cluster.publish',
        `the cluster store did not take ${what} (${(error as Error).message})`,
        {
          exitCode: ExitCode.cluster,
          hint: 'knock-server cluster status shows whether the store is reachable; run the command again once it is',
          cause: error,
        },
      );
    }
  }

  #deadline(): number | undefined {
    return this.#opts.background === false ? CLI_DEADLINE_MS : 2000;
  }

  publishGrant(
    address: string,
    ports: readonly PortSpec[],
    secs: number,
    origin?: EntryOrigin,
  ): Promise<void> {
    const at = Date.now();
    const ttl = secs * 1000;
    return this.#publish(`the grant of ${address}`, () =>
      Promise.all(
        ports.map((port) => {
          const id = grantId(address, port);
          const entry: ClusterGrant = {
            address,
            protocol: port.protocol,
            port: port.port,
            node: this.name,
            at,
            ...(origin?.door !== undefined ? { door: origin.door } : {}),
          };
          this.#remember(`grant:${id}`, entry);
          return this.#put('grant', id, entry, ttl, 'set');
        }),
      ),
    );
  }

  publishBan(address: string, secs: number, origin?: EntryOrigin): Promise<void> {
    const at = Date.now();
    const entry: ClusterBan = {
      address,
      node: this.name,
      at,
      ...(origin?.door !== undefined ? { door: origin.door } : {}),
    };
    this.#remember(`ban:${address}`, entry);
    return this.#publish(`the ban of ${address}`, () =>
      this.#put('ban', address, entry, secs * 1000, 'set'),
    );
  }

  #put(
    kind: EntryKind,
    id: string,
    entry: ClusterGrant | ClusterBan,
    ttl: number,
    mode: 'set' | 'republish',
  ) {
    const message = JSON.stringify({ op: kind, src: this.store.src, id, ttl, entry });
    return this.store.eval(
      PUT,
      [kind, id, JSON.stringify(entry), ttl, entry.at, mode, message],
      this.#deadline(),
    );
  }

  publishRevoke(kind: EntryKind, address: string): Promise<void> {
    this.#forget(kind, address);
    const message = JSON.stringify({ op: 'revoke', src: this.store.src, kind, address });
    return this.#publish(`the revocation of ${address}`, () =>
      this.store.eval(REVOKE, [kind, address, Date.now(), message], this.#deadline()),
    );
  }

  publishFlush(kind: EntryKind): Promise<void> {
    for (const key of [...this.#known.keys()])
      if (key.startsWith(`${kind}:`)) this.#known.delete(key);
    const message = JSON.stringify({ op: 'flush', src: this.store.src, kind });
    return this.#publish(`the flush of every ${kind}`, () =>
      this.store.eval(FLUSH, [kind, Date.now(), message], this.#deadline()),
    );
  }

  publishTrust(cidr: string): Promise<void> {
    const entry = { address: cidr, node: this.name, at: Date.now() };
    this.#trusts.add(cidr);
    const message = JSON.stringify({ op: 'trust', src: this.store.src, entry });
    return this.#publish(`the trust of ${cidr}`, () =>
      this.store.eval(TRUST, [cidr, JSON.stringify(entry), message], this.#deadline()),
    );
  }

  /** `knock-server cluster untrust`: every node re-applies its setup without it. */
  publishUntrust(cidr: string): Promise<void> {
    this.#trusts.delete(cidr);
    const message = JSON.stringify({ op: 'untrust', src: this.store.src, address: cidr });
    return this.#publish(`untrust ${cidr}`, () =>
      this.store.eval(UNTRUST, [cidr, message], this.#deadline()),
    );
  }

  // --- setup and reconciliation ------------------------------------------------------

  /** The local setup with the cluster's trusted networks added. */
  async setup(spec: FirewallSpec): Promise<void> {
    const local = this.#local;
    if (!local) return;
    this.#spec = spec;
    if (!this.background) {
      // `fw setup` rewrites the trusted sets: the cluster's trust must be in them too.
      const snap = await this.snapshot(CLI_DEADLINE_MS);
      for (const t of snap.trusts.keys()) this.#trusts.add(t);
    }
    await local.setup({ ...spec, trusted: [...new Set([...spec.trusted, ...this.#trusts])] });
    this.#firewallReady = true;
  }

  async #resetup(): Promise<void> {
    if (this.#spec) await this.setup(this.#spec);
  }

  /** Reads the whole shared state (one script). Junk is reported and skipped. */
  async snapshot(deadlineMs = SNAPSHOT_DEADLINE_MS): Promise<ClusterSnapshot> {
    const raw = (await this.store.eval(SNAPSHOT, [], deadlineMs)) as unknown[][];
    const snap: ClusterSnapshot = {
      grants: new Map(),
      bans: new Map(),
      trusts: new Map(),
      gones: new Map(),
    };
    const [grants = [], bans = [], trusts = [], gones = []] = raw;
    const p = this.store.keys.prefix;
    for (let i = 0; i + 2 < grants.length; i += 3) {
      const [id, value, ttl] = [String(grants[i]), String(grants[i + 1]), Number(grants[i + 2])];
      const entry = decodeGrant(id, value);
      if (typeof entry === 'string') this.#junk(`${p}grant:${id}`, entry);
      else snap.grants.set(id, { entry, ttl });
    }
    for (let i = 0; i + 2 < bans.length; i += 3) {
      const [id, value, ttl] = [String(bans[i]), String(bans[i + 1]), Number(bans[i + 2])];
      const entry = decodeBan(id, value);
      if (typeof entry === 'string') this.#junk(`${p}ban:${id}`, entry);
      else snap.bans.set(id, { entry, ttl });
    }
    for (let i = 0; i + 1 < trusts.length; i += 2) {
      const [id, value] = [String(trusts[i]), String(trusts[i + 1])];
      const entry = decodeTrust(id, value);
      if (typeof entry === 'string') this.#junk(`${p}trust:${id}`, entry);
      else snap.trusts.set(id, { node: entry.node, at: entry.at });
    }
    for (let i = 0; i + 1 < gones.length; i += 2) {
      const [id, value] = [String(gones[i]), Number(gones[i + 1])];
      if (!/^(grant|ban):/.test(id) || !Number.isFinite(value))
        this.#junk(`${p}gone:${id}`, 'not a tombstone');
      else snap.gones.set(id, value);
    }
    return snap;
  }

  /** Runs a reconciliation now (one at a time; a request during one runs once more after it). */
  reconcile(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#reconciling) {
      this.#reconcileAgain = true;
      return this.#reconciling;
    }
    const run = async () => {
      do {
        this.#reconcileAgain = false;
        try {
          await this.#reconcileOnce();
        } catch (error) {
          if (!(error instanceof StoreUnavailable))
            this.#log.error(`cluster: reconciliation failed: ${(error as Error).message}`);
          return;
        }
      } while (this.#reconcileAgain && !this.#closed);
    };
    this.#reconciling = run().finally(() => (this.#reconciling = undefined));
    return this.#reconciling;
  }

  /**
   * Whether a grant or ban held here (`remaining` seconds; undefined: no expiry) is to be
   * published again: not when the store holds it (`theirs`) with no expiry or about as long
   * (1 s of slack), nor when it was revoked elsewhere and this node never knew it. Then its
   * time left in ms (0: no expiry) and who made it.
   */
  #republishing(
    snap: ClusterSnapshot,
    kind: 'grant' | 'ban',
    id: string,
    remaining: number | undefined,
    theirs: { ttl: number } | undefined,
  ): { mine: number; known: Known } | undefined {
    const mine = remaining === undefined ? 0 : remaining * 1000;
    if (theirs && (theirs.ttl === -1 || (mine !== 0 && theirs.ttl >= mine - 1000)))
      return undefined;
    const key = `${kind}:${id}`;
    if (snap.gones.has(key) && !this.#known.has(key)) return undefined;
    return { mine, known: this.#known.get(key) ?? { node: this.name, at: 0 } };
  }

  async #reconcileOnce(): Promise<void> {
    const local = this.#local;
    if (!local || local.kind === 'none' || !this.store.reachable) return;
    await this.#recordOfflineClaims();
    await this.settled();
    const snap = await this.snapshot();
    // 1. What this node holds, by grant id and by banned address.
    const localGrants = new Map<string, FirewallEntry>();
    const localBans = new Map<string, FirewallEntry>();
    for (const e of await local.list()) {
      if (e.kind === 'grant' && e.port) localGrants.set(grantId(e.address, e.port), e);
      else if (e.kind === 'ban') localBans.set(e.address, e);
    }
    const dropped = await this.#dropRevoked(local, snap, localGrants, localBans);
    let republished = 0;

    // 3. Re-publish what we hold and the store lacks (or holds for less time).
    const puts: Promise<unknown>[] = [];
    for (const [id, e] of localGrants) {
      const put = this.#republishing(snap, 'grant', id, e.remaining, snap.grants.get(id));
      if (put === undefined) continue;
      const { mine, known } = put;
      const entry: ClusterGrant = {
        address: e.address,
        protocol: e.port!.protocol,
        port: e.port!.port,
        node: known.node,
        at: known.at,
        ...(known.door !== undefined ? { door: known.door } : {}),
      };
      puts.push(
        this.#put('grant', id, entry, mine, 'republish').then((n) => (republished += Number(n))),
      );
    }
    for (const [address, e] of localBans) {
      const put = this.#republishing(snap, 'ban', address, e.remaining, snap.bans.get(address));
      if (put === undefined) continue;
      const { mine, known } = put;
      const entry: ClusterBan = {
        address,
        node: known.node,
        at: known.at,
        ...(known.door !== undefined ? { door: known.door } : {}),
      };
      puts.push(
        this.#put('ban', address, entry, mine, 'republish').then((n) => (republished += Number(n))),
      );
    }
    await Promise.all(puts);

    const applied = await this.#applyStore(local, snap, localGrants, localBans);
    // What this node remembers about entries: only those still held here or in the store.
    const live = new Set([
      ...[...snap.grants.keys()].map((id) => `grant:${id}`),
      ...[...snap.bans.keys()].map((id) => `ban:${id}`),
      ...[...localGrants.keys()].map((id) => `grant:${id}`),
      ...[...localBans.keys()].map((id) => `ban:${id}`),
    ]);
    for (const key of [...this.#known.keys()]) if (!live.has(key)) this.#known.delete(key);

    const trustChanges = await this.#syncTrust(local, snap);
    if (dropped + republished + applied + trustChanges > 0)
      this.#log.info(
        `cluster: reconciled with ${this.store.url}: ${applied} applied here, ${republished} re-published, ${dropped} revoked here, ${trustChanges} trust change(s)`,
      );
  }

  /** 2. Drops what the cluster revoked after this node learnt of it; how many addresses. */
  async #dropRevoked(
    local: Firewall,
    snap: ClusterSnapshot,
    localGrants: Map<string, FirewallEntry>,
    localBans: Map<string, FirewallEntry>,
  ): Promise<number> {
    let dropped = 0;
    const revokedAddresses = new Set<string>();
    const unban: string[] = [];
    for (const [id] of localGrants) {
      const gone = snap.gones.get(`grant:${id}`);
      if (gone === undefined || snap.grants.has(id)) continue;
      if ((this.#known.get(`grant:${id}`)?.at ?? 0) <= gone)
        revokedAddresses.add(parseGrantId(id)!.address);
    }
    for (const [address] of localBans) {
      const gone = snap.gones.get(`ban:${address}`);
      if (gone === undefined || snap.bans.has(address)) continue;
      if ((this.#known.get(`ban:${address}`)?.at ?? 0) <= gone) unban.push(address);
    }
    for (const address of revokedAddresses) {
      await this.#after(() => local.revoke(address));
      for (const id of [...localGrants.keys()])
        if (id.startsWith(`${address}|`)) localGrants.delete(id);
      this.#forget('grant', address);
      dropped += 1;
    }
    for (const address of unban) {
      await this.#after(() => local.unban(address));
      localBans.delete(address);
      this.#forget('ban', address);
      dropped += 1;
    }
    return dropped;
  }

  /** 4. Applies what the store has and this node lacks, with the time it has left. */
  async #applyStore(
    local: Firewall,
    snap: ClusterSnapshot,
    localGrants: Map<string, FirewallEntry>,
    localBans: Map<string, FirewallEntry>,
  ): Promise<number> {
    let applied = 0;
    const work: Promise<unknown>[] = [];
    for (const [id, { entry, ttl }] of snap.grants) {
      this.#remember(`grant:${id}`, entry);
      if (!needsApplying(localGrants.get(id), ttl)) continue;
      applied += 1;
      const ports = [{ protocol: entry.protocol, port: entry.port }];
      work.push(
        this.#together(() => local.grant(entry.address, ports, ttl === -1 ? 0 : seconds(ttl))),
      );
    }
    for (const [address, { entry, ttl }] of snap.bans) {
      this.#remember(`ban:${address}`, entry);
      if (!needsApplying(localBans.get(address), ttl)) continue;
      applied += 1;
      work.push(this.#together(() => local.ban(address, ttl === -1 ? 0 : seconds(ttl))));
    }
    const results = await Promise.allSettled(work);
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0)
      this.#log.error(
        `cluster: ${failed.length} grant(s) or ban(s) from the cluster could not be applied here: ${String((failed[0] as PromiseRejectedResult).reason)}`,
      );
    return applied;
  }

  /** Trust: adds what is new; what the cluster dropped goes with a new setup. How many changed. */
  async #syncTrust(local: Firewall, snap: ClusterSnapshot): Promise<number> {
    const stale = [...this.#trusts].filter((t) => !snap.trusts.has(t));
    const fresh = [...snap.trusts.keys()].filter((t) => !this.#trusts.has(t));
    for (const t of stale) this.#trusts.delete(t);
    for (const t of fresh) this.#trusts.add(t);
    if (stale.length > 0) await this.#resetup();
    else for (const t of fresh) await local.trust(t);
    return stale.length + fresh.length;
  }

  // --- single-use ----------------------------------------------------------------------

  async claim(claim: SingleUseClaim): Promise<SingleUseVerdict> {
    try {
      const { reply, hash } = await this.#claimInStore(claim);
      if (Number(reply[0]) === 1) return { accept: true, how: 'claimed' };
      let node = 'another node';
      try {
        const parsed = JSON.parse(String(reply[1])) as { node?: unknown };
        if (typeof parsed.node === 'string') node = parsed.node;
      } catch {
        this.#junk(`${this.store.keys.prefix}used:${claim.scope}:${hash}`, 'not a JSON object');
      }
      return { accept: false, why: 'used', node };
    } catch (error) {
      const detail = (error as Error).message;
      if (this.#opts.failMode === 'open') {
        // Recorded in the cluster once it is back (the oldest go first past 10,000).
        if (this.#offlineClaims.push(claim) > 10_000) this.#offlineClaims.shift();
        return { accept: true, how: 'failOpen', detail };
      }
      return { accept: false, why: 'unavailable', detail };
    }
  }

  onUsedElsewhere(listener: (scope: string, id: string, node: string) => void): () => void {
    this.#usedListeners.add(listener);
    return () => this.#usedListeners.delete(listener);
  }

  /**
   * Runs CLAIM for `claim`: the reply ([1] when this node marked it used first, else [0, the
   * holder's JSON]) and the item's key hash. `deadlineMs`: the store's own when absent.
   */
  async #claimInStore(
    claim: SingleUseClaim,
    deadlineMs?: number,
  ): Promise<{ reply: unknown[]; hash: string }> {
    const hash = createHash('sha256').update(claim.id).digest('hex').slice(0, 40);
    const holder = JSON.stringify({ node: this.name, id: claim.id, at: Date.now() });
    const message = JSON.stringify({
      op: 'used',
      src: this.store.src,
      scope: claim.scope,
      id: claim.id,
      node: this.name,
    });
    const args = [claim.scope, hash, holder, claim.ttlMs ?? 0, message];
    const reply = (await this.store.eval(CLAIM, args, deadlineMs)) as unknown[];
    return { reply, hash };
  }

  /** Claims accepted locally while the store was away (Cluster_Fail = open) are recorded now. */
  async #recordOfflineClaims(): Promise<void> {
    while (this.#offlineClaims.length > 0) {
      const claim = this.#offlineClaims[0]!;
      const { reply } = await this.#claimInStore(claim, 2000);
      if (Number(reply[0]) !== 1)
        this.#log.error(
          `cluster: ${claim.scope} ${claim.id} was used here while the store was unreachable (Cluster_Fail = open) and also elsewhere`,
        );
      this.#offlineClaims.shift();
    }
  }

  // --- heartbeat and status -------------------------------------------------------------

  async #beat(): Promise<void> {
    if (this.#closed || this.#stopping) return;
    const rtt = await this.store.probe();
    if (rtt === undefined || !this.store.reachable || this.#stopping) return;
    await this.#checkName();
    const heartbeat: NodeHeartbeat = {
      src: this.store.src,
      node: this.name,
      pid: process.pid,
      version: this.#opts.version,
      started: this.#started,
      at: Date.now(),
      entries: this.#known.size,
      ...(this.#lagMs !== undefined ? { lagMs: this.#lagMs } : {}),
    };
    const every = this.#opts.heartbeatMs ?? 2000;
    try {
      const before = Date.now();
      const time = await this.store.eval(
        HEARTBEAT,
        [this.name, JSON.stringify(heartbeat), every * 3],
        1000,
      );
      this.#setOffset(time, before, Date.now());
      this.#wroteHeartbeat = true;
      await this.store.call(
        [
          'PUBLISH',
          this.store.keys.channel,
          JSON.stringify({ op: 'ping', src: this.store.src, t: Date.now() }),
        ],
        1000,
      );
    } catch {
      // the probe will notice
    }
  }

  #wroteHeartbeat = false;
  #twinLogged = false;

  /**
   * Another live daemon with our name would make `cluster status` and the logs lie: if
   * our heartbeat key was rewritten by someone else since our last write, say so once.
   * (A heartbeat left by this node's previous run is overwritten by our first one.)
   */
  async #checkName(): Promise<void> {
    if (!this.#wroteHeartbeat || this.#twinLogged) return;
    try {
      const raw = await this.store.call(['GET', this.store.keys.node(this.name)], 1000);
      const other = raw === null ? undefined : decodeHeartbeat(String(raw));
      if (other?.src !== undefined && other.src !== this.store.src) {
        this.#twinLogged = true;
        this.#log.error(
          `cluster: another live node is called ${this.name} (pid ${other.pid}): give each node its own Cluster_Node`,
        );
      }
    } catch {
      // the next heartbeat asks again
    }
  }

  /** Every node seen, for `cluster status`. */
  async nodes(): Promise<NodeStatus[]> {
    const raw = (await this.store.eval(NODES, [], CLI_DEADLINE_MS)) as unknown[];
    const out: NodeStatus[] = [];
    for (let i = 0; i + 2 < raw.length; i += 3) {
      const name = String(raw[i]);
      const heartbeat = decodeHeartbeat(String(raw[i + 1]));
      const ttl = Number(raw[i + 2]);
      // Gone: how long ago its last heartbeat was, and never 0 (a stop in the same
      // millisecond as the read is still a stop).
      const expiresInMs = ttl >= 0 ? ttl : heartbeat ? Math.min(-1, heartbeat.at - Date.now()) : -1;
      out.push(
        heartbeat
          ? { name, heartbeat, expiresInMs }
          : { name, expiresInMs, junk: 'unreadable heartbeat' },
      );
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Who made each listed entry; the cluster's entries this kernel lacks are added (here: false). */
  async annotate(entries: FirewallEntry[]): Promise<FirewallEntry[]> {
    const snap = await this.snapshot(CLI_DEADLINE_MS);
    const out = entries.map((e) => {
      const cluster =
        e.kind === 'grant' && e.port
          ? snap.grants.get(grantId(e.address, e.port))?.entry
          : e.kind === 'ban'
            ? snap.bans.get(e.address)?.entry
            : snap.trusts.get(e.address);
      if (!cluster) return e;
      const door = 'door' in cluster && typeof cluster.door === 'string' ? cluster.door : undefined;
      return { ...e, node: cluster.node, ...(door !== undefined ? { door } : {}) };
    });
    const have = new Set(
      out.map(
        (e) => `${e.kind}:${e.kind === 'grant' && e.port ? grantId(e.address, e.port) : e.address}`,
      ),
    );
    for (const [id, { entry, ttl }] of snap.grants)
      if (!have.has(`grant:${id}`))
        out.push({
          kind: 'grant',
          address: entry.address,
          port: { protocol: entry.protocol, port: entry.port },
          ...(ttl >= 0 ? { remaining: Math.round(ttl / 1000) } : {}),
          node: entry.node,
          ...(entry.door !== undefined ? { door: entry.door } : {}),
          here: false,
        });
    for (const [address, { entry, ttl }] of snap.bans)
      if (!have.has(`ban:${address}`))
        out.push({
          kind: 'ban',
          address,
          ...(ttl >= 0 ? { remaining: Math.round(ttl / 1000) } : {}),
          node: entry.node,
          ...(entry.door !== undefined ? { door: entry.door } : {}),
          here: false,
        });
    return out;
  }
}
