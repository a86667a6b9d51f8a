/**
 * The daemon core: config → doors → BPF → packets → detector → log lines, commands,
 * grants, one-time-sequence rotation. Every effect comes in through ports.ts, so the
 * whole life cycle (start, knocks, timeouts, SIGHUP, capture loss, shutdown) is
 * tested with a fake packet source and a fake clock.
 */
import {
  ExitCode,
  KnockError,
  formatIssue,
  formatSequence,
  hasErrors,
  parseSequence,
  TCP_FLAG_BITS,
  TCP_FLAGS,
  stepAt,
  type Door,
  type Knock,
  type KnockdConfig,
} from '@knock/shared';
import { NO_PACKETS_FILTER } from '../capture/filter.js';
import type { KnockEvent } from '@knock/shared';
import {
  Detector,
  type DetectorAction,
  type DetectorDoor,
  type DetectorOptions,
} from '../detect/detector.js';
import { describeRefusal, type SingleUseStore } from '../cluster/single-use.js';
import { DaemonStats } from '../metrics/stats.js';
import type { Logger } from './log.js';
import { RotatingDoors, type DerivedDoor } from '../rotating/daemon-hooks.js';
import { MemoryUsedStore, type UsedSequenceStore } from '../rotating/used-store.js';
import type { HostLookup } from './lookup.js';
import {
  systemClock,
  type ActionsPort,
  type CapturePort,
  type Clock,
  type ConfigLoad,
  type LocalAddresses,
  type OtsPort,
  type ReopenableSource,
  type Timer,
} from './ports.js';

export interface DaemonDeps {
  configPath: string;
  /** The config to start with (already parsed and free of errors). */
  config: KnockdConfig;
  /** Reads and parses the config again (SIGHUP). */
  loadConfig: (path: string) => Promise<ConfigLoad>;
  interfaces: string[];
  ipv4Only: boolean;
  maxAttempts: number;
  capture: CapturePort;
  actions: ActionsPort;
  ots: OtsPort;
  log: Logger;
  /** -l: names for log lines (never for commands). */
  lookup?: HostLookup;
  clock?: Clock;
  /** Milliseconds between attempts to reopen a lost capture. */
  retryMs?: number;
  /**
   * With a cluster: one-time sequences are claimed here before a door opens (a sequence
   * used on any node is used on all), and doors move on when another node used theirs.
   */
  singleUse?: SingleUseStore;
  /** Rotating doors: which derived sequences were used (default: in memory only). */
  usedStore?: UsedSequenceStore;
  /** Detector factory (tests may wrap it). */
  createDetector?: (doors: DetectorDoor[], options: DetectorOptions) => Detector;
  /** Where the counters go (status, metrics); a fresh one when not given. */
  stats?: DaemonStats;
  /** With a cluster: its reachability, for snapshot(). */
  cluster?: { health(): ClusterHealth };
}

/** A cluster node's view of its store, at one moment (`knock-server status`). */
export interface ClusterHealth {
  url: string;
  node: string;
  reachable: boolean;
  /** ms since the epoch, while the store is lost */
  lostSince?: number;
  /** The fan-out round trip of the last heartbeat (ms). */
  lagMs?: number;
  fail: 'open' | 'closed';
}

/** One door as `knock-server status` shows it. */
export interface DoorSnapshot {
  name: string;
  /** The sequence in force (`1228,1227:udp`), or undefined while a one-time door rotates or is used up. */
  sequence: string | undefined;
  /** One_Time_Sequences file, and how many unused sequences it has left. */
  oneTimeSequences?: { file: string; remaining: number | undefined };
  /** Sequence_Secret: the step of the daemon's clock, and how many derived sequences are watched. */
  rotatingSequences?: { step: number; accepted: number };
  state: 'armed' | 'rotating' | 'disabled';
  /** Attempts in progress for this door. */
  inProgress: number;
}

/** What the daemon can say about itself, at one moment (`knock-server status`). */
export interface DaemonSnapshot {
  configPath: string;
  interfaces: { name: string; capturing: boolean }[];
  /** The capture failed and is being retried. */
  captureLost: boolean;
  filter: string;
  doors: DoorSnapshot[];
  attempts: { inProgress: number; capacity: number; max: number; evictions: number };
  capture: { received: number; kernelDropped: number; interfaceDropped: number } | undefined;
  cluster?: ClusterHealth;
}

/** One door as the daemon runs it: its config, and its current sequence. */
interface RunningDoor {
  detector: DetectorDoor;
  door: Door;
  /** One_Time_Sequences: the door is waiting for its file to give the next sequence. */
  rotating: boolean;
  /** One_Time_Sequences used up (or the file broke): the door is off until a reload. */
  disabled: boolean;
  /** One_Time_Sequences: unused sequences left in the file (as last read). */
  remaining?: number;
  /** A rotating door: the derived sequences it accepts now (instead of `detector`). */
  derived?: DerivedDoor[];
}

let nextDoorId = 1;

/** Attempts expired per timer turn; the timer comes back at once for the rest. */
const EXPIRE_BATCH = 2_000;
/** After an error on the expiry path, the next try (ms). */
const EXPIRE_RETRY_MS = 1000;
/**
 * After the attempt table grew past this many slots and then shrank to a quarter of
 * its peak, memory is given back to the system (capture.releaseMemory) once
 * RELEASE_DELAY_MS have passed: a full collection costs tens of milliseconds, so it
 * happens only after a flood, at most every RELEASE_DELAY_MS.
 */
const RELEASE_PEAK_SLOTS = 65_536;
const RELEASE_DELAY_MS = 2000;

export class Daemon {
  readonly #deps: DaemonDeps;
  readonly #clock: Clock;
  readonly #log: Logger;
  #config: KnockdConfig;
  #doors: RunningDoor[] = [];
  #byId = new Map<number, RunningDoor>();
  #detector: Detector | undefined;
  #local: LocalAddresses = { v4: [], v6: [] };
  #source: ReopenableSource | undefined;
  #filter = '';
  #timer: Timer | undefined;
  #timerAt: number | undefined;
  #retry: Timer | undefined;
  #stopWatching: (() => void) | undefined;
  #out: DetectorAction[] = [];
  #stopping = false;
  #reloading: Promise<void> | undefined;
  #captureLost = false;
  readonly #rotations = new Set<Promise<void>>();
  /** Largest attempt-table capacity since memory was last given back. */
  #capacityPeak = 0;
  readonly #rotating: RotatingDoors;
  #release: Timer | undefined;
  #stopUsedElsewhere: (() => void) | undefined;
  readonly #stats: DaemonStats;
  /** attemptsByDoor() walks the table: reused for a while (snapshot()). */
  #perDoor: { at: number; counts: Map<string, number> } | undefined;

  constructor(deps: DaemonDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
    this.#log = deps.log;
    this.#config = deps.config;
    this.#rotating = new RotatingDoors({
      clock: this.#clock,
      log: deps.log,
      store: deps.usedStore ?? new MemoryUsedStore(() => this.#clock.now()),
      ipv4Only: deps.ipv4Only,
      newId: () => nextDoorId++,
      replan: () => {
        if (this.#stopping) return;
        for (const d of this.#doors)
          if (d.derived) d.derived = this.#rotating.plan(d.door, d.derived);
        this.#index();
        this.#pushDoors();
        this.#rotating.arm(this.#doors.map((d) => d.door));
      },
    });
    this.#stats = deps.stats ?? new DaemonStats(this.#clock.now());
  }

  /** The counters (status, metrics). */
  get stats(): DaemonStats {
    return this.#stats;
  }

  /** Doors, capture and attempts now (`knock-server status`). Cheap: no I/O. */
  snapshot(): DaemonSnapshot {
    const detector = this.#detector;
    const now = this.#clock.now();
    // Counting per door walks the table (~20-40 ms at a million attempts): at most once a
    // second, and once per 10 s at a million, however often status is asked.
    const ttl = Math.max(1000, (detector?.size ?? 0) / 100);
    if (detector !== undefined && (this.#perDoor === undefined || now - this.#perDoor.at >= ttl))
      this.#perDoor = { at: now, counts: detector.attemptsByDoor() };
    const perDoor = this.#perDoor?.counts;
    const source = this.#source;
    const failed = new Set(source?.failed ?? []);
    let capture: DaemonSnapshot['capture'];
    try {
      if (source?.counters) capture = source.counters();
      else if (source) {
        const s = source.stats();
        capture = { received: s.received, kernelDropped: s.dropped, interfaceDropped: 0 };
      }
    } catch {
      capture = undefined;
    }
    return {
      configPath: this.#deps.configPath,
      interfaces: this.#deps.interfaces.map((name) => ({
        name,
        capturing: source !== undefined && !failed.has(name),
      })),
      captureLost: this.#captureLost,
      filter: this.#filter,
      doors: this.#doors.map((d) => ({
        name: d.door.name,
        sequence:
          d.disabled || d.rotating || d.derived ? undefined : formatSequence(d.detector.sequence),
        ...(d.door.oneTimeSequences !== undefined
          ? { oneTimeSequences: { file: d.door.oneTimeSequences, remaining: d.remaining } }
          : {}),
        ...(d.derived && d.door.rotating
          ? {
              rotatingSequences: {
                step: stepAt(now, d.door.rotating.step),
                accepted: d.derived.length,
              },
            }
          : {}),
        state: d.disabled ? 'disabled' : d.rotating ? 'rotating' : 'armed',
        inProgress: perDoor?.get(d.door.name) ?? 0,
      })),
      attempts: {
        inProgress: detector?.size ?? 0,
        capacity: detector?.capacity ?? 0,
        max: this.#deps.maxAttempts,
        evictions: detector?.evictions ?? 0,
      },
      capture,
      ...(this.#deps.cluster ? { cluster: this.#deps.cluster.health() } : {}),
    };
  }

  get interfaces(): string {
    return this.#deps.interfaces.join(',');
  }

  /** The BPF currently installed (tests, -D). */
  get filter(): string {
    return this.#filter;
  }

  get config(): KnockdConfig {
    return this.#config;
  }

  /** Opens the capture and starts watching. Throws KnockError (config, capture) when it cannot. */
  async start(): Promise<void> {
    this.#doors = await this.#buildDoors(this.#config, undefined);
    this.#index();
    this.#local = this.#readAddresses();
    const create = this.#deps.createDetector ?? ((d, o) => new Detector(d, o));
    this.#detector = create(this.#activeDetectorDoors(), {
      maxAttempts: this.#deps.maxAttempts,
      localAddresses: this.#localList(),
    });
    try {
      this.#filter = this.#buildFilter();
    } catch (error) {
      // "No address to watch" often means "no such interface, or it is down": say that.
      await this.#explainMissingInterface();
      throw error;
    }
    this.#log.debug(`filter: ${this.#filter}`);
    const source = await this.#deps.capture.open({
      interfaces: this.#deps.interfaces,
      filter: this.#filter,
    });
    this.#attach(source);
    this.#stopWatching = this.#deps.capture.watchAddresses(this.#deps.interfaces, () =>
      this.refreshAddresses(),
    );
    this.#stopUsedElsewhere = this.#deps.singleUse?.onUsedElsewhere((scope, id, node) =>
      this.#usedElsewhere(scope, id, node),
    );
    this.#log.info('start', `starting up, listening on ${this.interfaces}`);
    this.#rotating.arm(this.#doors.map((d) => d.door));
    for (const d of this.#doors) if (d.disabled) this.#logExhausted(d.door.name);
  }

  /** Throws the capture's own error when an interface is missing or down. */
  async #explainMissingInterface(): Promise<void> {
    let probe: ReopenableSource;
    try {
      probe = await this.#deps.capture.open({
        interfaces: this.#deps.interfaces,
        filter: NO_PACKETS_FILTER,
      });
    } catch (error) {
      if (error instanceof KnockError) throw error;
      return;
    }
    probe.close();
  }

  /** SIGHUP: re-read the config; a config with errors is logged and the old one kept. */
  reload(): Promise<void> {
    // Signals can arrive faster than a reload finishes: run them one after the other.
    const run = async () => {
      if (this.#stopping) return;
      this.#log.info('reload', `re-reading config file: ${this.#deps.configPath}`);
      this.#log.reopen();
      // A rotation still writing its file must finish first, or the reload could read
      // the sequence just used as the current one.
      await Promise.all(this.#rotations);
      let loaded: ConfigLoad;
      try {
        loaded = await this.#deps.loadConfig(this.#deps.configPath);
      } catch (error) {
        this.#log.error(
          'reloadFailed',
          `cannot re-read ${this.#deps.configPath}: ${(error as Error).message}; keeping the running configuration`,
        );
        this.#reloaded(false, `cannot re-read the config: ${(error as Error).message}`);
        return;
      }
      for (const issue of loaded.issues)
        this.#log.log({
          level: issue.severity === 'error' ? 'error' : 'info',
          event: 'reloadFailed',
          msg: formatIssue(issue).replace(/\n\s*/g, ' '),
        });
      if (hasErrors(loaded.issues)) {
        this.#log.error(
          'reloadFailed',
          `${this.#deps.configPath} has errors: keeping the running configuration`,
        );
        const first = loaded.issues.find((issue) => issue.severity === 'error');
        const errors = loaded.issues.filter((issue) => issue.severity === 'error').length;
        this.#reloaded(
          false,
          `${errors} error${errors === 1 ? '' : 's'} in the config${first ? ` (first: ${formatIssue(first).split('\n')[0]})` : ''}; the previous configuration keeps running`,
        );
        return;
      }
      let doors: RunningDoor[];
      try {
        doors = await this.#buildDoors(loaded.config, this.#doors);
      } catch (error) {
        this.#log.error(
          'reloadFailed',
          `${error instanceof Error ? error.message : String(error)}: keeping the running configuration`,
        );
        this.#reloaded(false, error instanceof Error ? error.message : String(error));
        return;
      }
      if (this.#stopping) return;
      const old = this.#config.options;
      const next = loaded.config.options;
      if ((next.interface ?? '') !== (old.interface ?? ''))
        this.#log.info(
          'reload',
          'Interface changed: it takes effect at the next start (as in knockd)',
        );
      if (clusterKey(next) !== clusterKey(old))
        this.#log.info('reload', 'Cluster settings changed: they take effect at the next start');
      this.#config = loaded.config;
      this.#doors = doors;
      this.#index();
      this.#local = this.#readAddresses();
      this.#detector?.setLocalAddresses(this.#localList());
      this.#pushDoors();
      this.#rotating.arm(doors.map((d) => d.door));
      for (const d of doors) if (d.disabled && !d.rotating) this.#logExhausted(d.door.name);
      this.#stats.configLoadedAt = this.#clock.now();
      this.#reloaded(true, `${doors.length} door${doors.length === 1 ? '' : 's'} loaded`);
      await this.#deps.actions
        .reconfigure?.(loaded.config)
        .catch((error: unknown) =>
          this.#log.error('reload', `applying the new config: ${(error as Error).message}`),
        );
    };
    const previous = this.#reloading ?? Promise.resolve();
    const current = previous.then(run);
    this.#reloading = current.finally(() => {
      if (this.#reloading === current) this.#reloading = undefined;
    });
    return current;
  }

  #reloaded(ok: boolean, message: string): void {
    const stats = this.#stats;
    if (ok) stats.reloadsOk++;
    else stats.reloadsFailed++;
    stats.lastReload = { at: this.#clock.now(), ok, message };
  }

  /** Addresses changed (DHCP, ip addr add): filter and detector follow. */
  refreshAddresses(): void {
    if (this.#stopping) return;
    const local = this.#readAddresses();
    const same =
      local.v4.join() === this.#local.v4.join() && local.v6.join() === this.#local.v6.join();
    if (same) return;
    this.#local = local;
    this.#log.info(
      'addresses',
      `local addresses now: ${[...local.v4, ...local.v6].join(', ') || 'none'}`,
    );
    this.#detector?.setLocalAddresses(this.#localList());
    this.#applyFilter();
  }

  /**
   * SIGTERM/SIGINT: stop capturing, run every pending stop command now (so no door
   * stays open because the daemon went away), log `shutting down`.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#stopWatching?.();
    this.#stopUsedElsewhere?.();
    this.#timer?.cancel();
    this.#retry?.cancel();
    this.#release?.cancel();
    this.#rotating.stop();
    this.#source?.close();
    this.#source = undefined;
    await this.#reloading?.catch(() => undefined);
    await Promise.all(this.#rotations);
    await this.#rotating.flush();
    await this.#deps.actions.runAllPendingNow();
    await this.#deps.actions.close();
    this.#log.info('stop', 'shutting down');
  }

  // --- packets -----------------------------------------------------------------------

  #attach(source: ReopenableSource): void {
    this.#source = source;
    source.start(
      (event) => this.#onEvent(event),
      (error) => this.#onCaptureError(source, error),
    );
  }

  #onEvent(event: KnockEvent): void {
    const detector = this.#detector;
    if (!detector || this.#stopping) return;
    const out = this.#out;
    out.length = 0;
    // A capture time that is not a finite positive number (a decoder bug): use the clock.
    const now = event.time > 0 && event.time < Infinity ? event.time : this.#clock.now();
    this.#stats.packets++;
    if (this.#log.debugEnabled) this.#log.debug(describePacket(event));
    try {
      detector.feed(event, now, out);
      if (out.length > 0) this.#handle(out, now);
      if (detector.capacity > this.#capacityPeak) this.#capacityPeak = detector.capacity;
    } catch (error) {
      // A bug must not take the doors down: log it (once per packet) and go on.
      this.#log.error(
        'error',
        `internal error on a packet from ${event.src}: ${(error as Error).message} (a bug in knock-server: please report it)`,
      );
    }
    this.#armTimer();
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = undefined;
    const detector = this.#detector;
    if (!detector || this.#stopping) return;
    const out = this.#out;
    out.length = 0;
    try {
      // Bounded work per turn: a flood's worth of expiries never stalls the capture.
      const now = this.#clock.now();
      detector.expire(now, out, EXPIRE_BATCH);
      if (out.length > 0) this.#handle(out, now);
    } catch (error) {
      // A timer callback that throws would reach the process's fatal handler: log, go on.
      this.#log.error(
        'error',
        `internal error while expiring attempts: ${(error as Error).message} (a bug in knock-server: please report it)`,
      );
      // Try again in a second, not in a tight loop if the error repeats.
      this.#timerAt = this.#clock.now() + EXPIRE_RETRY_MS;
      this.#timer = this.#clock.setTimer(() => this.#expire(), EXPIRE_RETRY_MS);
      return;
    }
    this.#armTimer();
    this.#watchMemory(detector);
  }

  /** A flood's attempts are gone: give their memory back, once things are calm. */
  #watchMemory(detector: Detector): void {
    const release = this.#deps.capture.releaseMemory;
    if (
      release === undefined ||
      this.#release !== undefined ||
      this.#capacityPeak < RELEASE_PEAK_SLOTS ||
      detector.capacity * 4 > this.#capacityPeak
    )
      return;
    this.#release = this.#clock.setTimer(() => {
      this.#release = undefined;
      if (this.#stopping) return;
      this.#capacityPeak = this.#detector?.capacity ?? 0;
      release.call(this.#deps.capture);
    }, RELEASE_DELAY_MS);
  }

  /** One timer, at the detector's next deadline: timeouts are logged when they happen. */
  #armTimer(): void {
    const deadline = this.#detector?.nextDeadline();
    // Keep a timer that fires no later than needed: under a flood the oldest attempt
    // changes with almost every packet, and re-arming each time would cost more than
    // the knock itself. A timer that fires early finds nothing and re-arms.
    if (
      deadline === undefined ||
      !Number.isFinite(deadline) ||
      (this.#timerAt !== undefined && this.#timerAt <= deadline)
    )
      return;
    this.#timer?.cancel();
    this.#timerAt = deadline;
    this.#timer = this.#clock.setTimer(
      () => this.#expire(),
      Math.max(0, deadline - this.#clock.now()),
    );
  }

  #handle(actions: readonly DetectorAction[], now: number): void {
    // Nothing in here feeds the detector (packets arrive in later callbacks), so `actions`
    // stays as it is while it is read. This runs for every knock of a flood: one entry
    // object per line, no spreading.
    const lookup = this.#deps.lookup;
    const stats = this.#stats;
    for (const action of actions) {
      const door = action.door.name;
      const src = action.src;
      const counts = stats.door(door);
      const host = lookup?.nameOf(src);
      const who = host === undefined ? src : `${src} (${host})`;
      // A rotating door's lines name the step of the derived sequence.
      const derived = this.#rotating.size > 0 ? this.#rotating.find(action.door.id) : undefined;
      const step = derived === undefined ? '' : ` (step ${derived.step})`;
      switch (action.kind) {
        case 'stage':
          counts.knock(action.stage);
          this.#log.log({
            level: 'info',
            event: 'stage',
            msg: `${who}: ${door}: Stage ${action.stage}${step}`,
            src,
            host,
            door,
            stage: action.stage,
            step: derived?.step,
          });
          break;
        case 'open': {
          if (derived !== undefined) {
            const running = this.#byId.get(action.door.id);
            // Counted as an open only when it opens (not a replay of a used sequence).
            const startedAt = action.startedAt;
            if (running && !running.disabled)
              this.#rotating.open(derived, action.src, action.family, who, () => {
                counts.opens++;
                stats.openSeconds.observe(Math.max(0, now - startedAt) / 1000);
                this.#deps.actions.open(running.door, src, action.family);
              });
            break;
          }
          counts.opens++;
          stats.openSeconds.observe(Math.max(0, now - action.startedAt) / 1000);
          this.#log.log({
            level: 'info',
            event: 'open',
            msg: `${who}: ${door}: OPEN SESAME`,
            src,
            host,
            door,
          });
          const running = this.#byId.get(action.door.id);
          if (!running || running.disabled) break;
          if (running.door.oneTimeSequences !== undefined && this.#deps.singleUse) {
            this.#openSingleUse(running, src, action.family, who);
            break;
          }
          this.#deps.actions.open(running.door, src, action.family);
          if (running.door.oneTimeSequences !== undefined) {
            const rotation = this.#rotate(running).finally(() => this.#rotations.delete(rotation));
            this.#rotations.add(rotation);
          }
          break;
        }
        case 'timeout':
          counts.timeouts++;
          this.#log.log({
            level: 'info',
            event: 'timeout',
            msg: `${who}: ${door}: sequence timeout (stage ${action.stage})${step}`,
            src,
            host,
            door,
            stage: action.stage,
            step: derived?.step,
          });
          break;
        case 'reset':
          counts.wrongKnocks++;
          // Most packets of a flood end some attempt: build the text only for -D.
          if (this.#log.debugEnabled)
            this.#log.debug(
              `${who}: ${door}: wrong knock after stage ${action.stage}, attempt reset${step}`,
            );
          break;
      }
    }
  }

  // --- one-time sequences ------------------------------------------------------------

  /**
   * The sequence just used is spent: the door leaves the detector and the filter at
   * once (no replay while the file is written), then comes back with the next
   * sequence, for IPv4 and IPv6 alike; with none left it stays off and the daemon
   * goes on (knockd 0.8 aborts here).
   */
  async #rotate(
    running: RunningDoor,
    used: readonly Knock[] = running.detector.sequence,
  ): Promise<void> {
    const path = running.door.oneTimeSequences;
    if (path === undefined) return;
    running.rotating = true;
    this.#pushDoors();
    let next: Knock[] | undefined;
    try {
      const consumed = await this.#deps.ots.consume(path, used);
      next = consumed.next;
      running.remaining = consumed.remaining;
    } catch (error) {
      running.rotating = false;
      running.disabled = true;
      this.#log.error(
        'otsExhausted',
        `${running.door.name}: cannot update the one time sequences file ${path}: ${(error as Error).message} --> disabling the door until the next reload`,
        { door: running.door.name },
      );
      this.#pushDoors();
      return;
    }
    if (!this.#doors.includes(running)) return; // replaced by a reload meanwhile
    running.rotating = false;
    if (next === undefined || next.length === 0) {
      running.disabled = true;
      this.#logExhausted(running.door.name);
    } else if (!sameKnocks(next, running.detector.sequence)) {
      running.detector = { ...running.detector, id: nextDoorId++, sequence: next };
      this.#index();
    }
    this.#pushDoors();
  }

  /**
   * A one-time door on a cluster: the sequence leaves the detector at once (as without a
   * cluster), and the door opens only if the cluster says nobody used it before (the
   * answer comes within the store's knock deadline, or Cluster_Fail decides).
   */
  #openSingleUse(running: RunningDoor, src: string, family: 4 | 6, who: string): void {
    const door = running.door;
    const used = formatSequence(running.detector.sequence);
    this.#track(this.#rotate(running));
    const claim = this.#deps.singleUse!.claim({ scope: `ots:${door.name}`, id: used });
    this.#track(
      claim.then((verdict) => {
        if (this.#stopping) return;
        if (verdict.accept) {
          if (verdict.how === 'failOpen')
            this.#log.error(
              'cluster',
              `${who}: ${door.name}: the cluster store cannot answer (${verdict.detail}); Cluster_Fail = open: one time sequence accepted on this node only`,
              { src, door: door.name },
            );
          this.#deps.actions.open(door, src, family);
        } else
          this.#log.error(
            'cluster',
            `${who}: ${door.name}: one time sequence ${describeRefusal(verdict)}`,
            { src, door: door.name },
          );
      }),
    );
  }

  #track(work: Promise<void>): void {
    const tracked: Promise<void> = work.finally(() => this.#rotations.delete(tracked));
    this.#rotations.add(tracked);
  }

  /** Another node used a one-time sequence of a door we have too: mark it used here as well. */
  #usedElsewhere(scope: string, id: string, node: string): void {
    if (this.#stopping || !scope.startsWith('ots:')) return;
    const name = scope.slice(4);
    const running = this.#doors.find((d) => d.door.name === name && d.door.oneTimeSequences);
    const parsed = parseSequence(id);
    if (!running || running.disabled || parsed.knocks.length === 0) return;
    const current = sameKnocks(parsed.knocks, running.detector.sequence);
    this.#log.info(
      'cluster',
      `${name}: one time sequence ${id} was used on node ${node}${current ? ': moving to the next one' : ''}`,
      { door: name },
    );
    // After any rotation in progress, so both read and write the file in turn.
    const previous = Promise.all(this.#rotations);
    this.#track(previous.then(() => this.#rotate(running, parsed.knocks)));
  }

  #logExhausted(name: string): void {
    this.#log.info(
      'otsExhausted',
      `no more sequences left in the one time sequences file for door ${name} --> disabling the door`,
      { door: name },
    );
  }

  // --- doors, addresses, filter ------------------------------------------------------

  async #buildDoors(
    config: KnockdConfig,
    previous: RunningDoor[] | undefined,
  ): Promise<RunningDoor[]> {
    const doors: RunningDoor[] = [];
    // An unchanged door (name and knocks) keeps its id: the previous doors by that key,
    // in order, each used once (a scan per door made a reload of thousands of doors slow).
    const unchanged = new Map<string, RunningDoor[]>();
    for (const p of previous ?? []) {
      if (p.disabled) continue;
      const key = doorKey(p.door.name, p.detector.sequence);
      const list = unchanged.get(key);
      if (list) list.push(p);
      else unchanged.set(key, [p]);
    }
    for (const door of config.doors) {
      let sequence: readonly Knock[] = door.sequence;
      let disabled = false;
      let remaining: number | undefined;
      if (door.oneTimeSequences !== undefined) {
        const read = await this.#deps.ots.read(door.oneTimeSequences).catch((error: unknown) => {
          throw new KnockError(
            'server.ots',
            `door [${door.name}]: cannot read the one time sequences file ${door.oneTimeSequences}: ${(error as Error).message}`,
            {
              exitCode: ExitCode.otsFile,
              hint: 'create it with knock-server ots generate, or fix One_Time_Sequences',
            },
          );
        });
        remaining = read.remaining;
        if (read.current === undefined) disabled = true;
        else sequence = read.current;
      }
      const detector: DetectorDoor = {
        id: nextDoorId++,
        name: door.name,
        sequence,
        timeoutMs: door.seqTimeout * 1000,
        tcpFlags: door.tcpFlags,
        ...(door.target !== undefined ? { target: door.target } : {}),
      };
      // An unchanged door keeps its id, so nothing about it looks new.
      const same = unchanged.get(doorKey(door.name, sequence))?.shift();
      if (same) detector.id = same.detector.id;
      const running: RunningDoor = {
        detector,
        door,
        rotating: false,
        disabled,
        ...(remaining !== undefined ? { remaining } : {}),
      };
      if (door.rotating)
        running.derived = this.#rotating.plan(
          door,
          previous?.find((p) => p.door.name === door.name && p.derived)?.derived,
        );
      doors.push(running);
    }
    return doors;
  }

  #index(): void {
    this.#byId = new Map(this.#doors.map((d) => [d.detector.id, d]));
    for (const d of this.#doors) for (const x of d.derived ?? []) this.#byId.set(x.detector.id, d);
    this.#rotating.index(this.#doors.flatMap((d) => d.derived ?? []));
  }

  #activeDetectorDoors(): DetectorDoor[] {
    return this.#doors
      .filter((d) => !d.disabled && !d.rotating)
      .flatMap((d) => (d.derived ? d.derived.map((x) => x.detector) : [d.detector]));
  }

  #pushDoors(): void {
    this.#detector?.setDoors(this.#activeDetectorDoors());
    this.#applyFilter();
    this.#armTimer();
  }

  #readAddresses(): LocalAddresses {
    try {
      return this.#deps.capture.localAddresses(this.#deps.interfaces, {
        ipv4Only: this.#deps.ipv4Only,
      });
    } catch (error) {
      this.#log.error(
        'addresses',
        `cannot read the addresses of ${this.interfaces}: ${(error as Error).message}`,
      );
      return this.#local;
    }
  }

  #localList(): string[] {
    return this.#deps.ipv4Only ? [...this.#local.v4] : [...this.#local.v4, ...this.#local.v6];
  }

  #buildFilter(): string {
    return this.#deps.capture.buildFilter(
      this.#activeDetectorDoors().map((d) => ({
        knocks: d.sequence,
        tcpFlags: d.tcpFlags,
        name: d.name,
        ...(d.target !== undefined ? { target: d.target } : {}),
        // A rotating door's derived sequence is watched over its own family only.
        ...this.#rotating.filterFamily(d.id),
      })),
      this.#local,
      { ipv4Only: this.#deps.ipv4Only },
    );
  }

  #applyFilter(): void {
    let filter: string;
    try {
      filter = this.#buildFilter();
    } catch (error) {
      // No address left to watch (interface down, DHCP lease lost): keep the old filter
      // until the addresses come back.
      this.#log.error('capture', `${(error as Error).message}; keeping the current capture filter`);
      return;
    }
    if (filter === this.#filter) return;
    this.#filter = filter;
    this.#log.debug(`filter: ${filter}`);
    if (!this.#source) return;
    try {
      this.#source.setFilter(filter);
    } catch (error) {
      this.#log.error(
        'capture',
        `cannot install the new capture filter: ${(error as Error).message}`,
      );
    }
  }

  // --- capture loss ------------------------------------------------------------------

  /**
   * An interface went away (or libpcap failed): log, retry every second, recover when
   * it is back. A source that can reopen its failed interfaces (one pcap handle per
   * interface) keeps the others capturing meanwhile; any other is reopened whole.
   */
  #onCaptureError(source: ReopenableSource, error: Error): void {
    if (source !== this.#source || this.#stopping) return;
    const seconds = Math.round((this.#deps.retryMs ?? 1000) / 1000) || 1;
    this.#log.error('capture', `capture failed: ${error.message}; retrying every ${seconds} s`);
    this.#captureLost = true;
    if (typeof source.reopen !== 'function') {
      this.#source = undefined;
      try {
        source.close();
      } catch {
        // already broken
      }
    }
    this.#scheduleReopen();
  }

  #scheduleReopen(): void {
    if (this.#stopping || this.#retry) return;
    this.#retry = this.#clock.setTimer(() => void this.#reopen(), this.#deps.retryMs ?? 1000);
  }

  async #reopen(): Promise<void> {
    this.#retry = undefined;
    if (this.#stopping) return;
    // The interface may come back with other addresses (or none yet).
    this.refreshAddresses();
    const current = this.#source;
    if (current) {
      if (typeof current.reopen !== 'function') return;
      try {
        await current.reopen();
      } catch (error) {
        this.#log.debug(`capture still failing: ${(error as Error).message}`);
        this.#scheduleReopen();
        return;
      }
      if (this.#stopping || current !== this.#source) return;
      if ((current.failed?.length ?? 0) > 0) {
        this.#scheduleReopen();
        return;
      }
    } else {
      let source: ReopenableSource;
      try {
        this.#filter = this.#buildFilter();
        source = await this.#deps.capture.open({
          interfaces: this.#deps.interfaces,
          filter: this.#filter,
        });
      } catch (error) {
        this.#log.debug(`capture still failing: ${(error as Error).message}`);
        this.#scheduleReopen();
        return;
      }
      if (this.#stopping) {
        source.close();
        return;
      }
      this.#attach(source);
    }
    if (this.#captureLost) {
      this.#captureLost = false;
      this.#log.info('capture', `listening on ${this.interfaces} again`);
    }
  }
}

/** -D: one line per packet the filter let through. */
function describePacket(e: KnockEvent): string {
  const host = (a: string) => (e.family === 6 ? `[${a}]` : a);
  const flags =
    e.protocol === 'tcp'
      ? ` ${TCP_FLAGS.filter((f) => (e.flags & TCP_FLAG_BITS[f]) !== 0).join(',') || 'none'}`
      : '';
  return `packet: ${e.protocol} ${host(e.src)}:${e.srcPort} -> ${host(e.dst)}:${e.dstPort}${flags}`;
}

const clusterKey = (o: KnockdConfig['options']): string =>
  [o.cluster, o.clusterName, o.clusterNode, o.clusterPasswordFile, o.clusterFail].join('\0');

const sameKnocks = (a: readonly Knock[], b: readonly Knock[]): boolean =>
  a.length === b.length &&
  a.every((k, i) => k.port === b[i]?.port && k.protocol === b[i]?.protocol);
/** Equal for two doors that are the same door across a reload: name and knocks. */
const doorKey = (name: string, knocks: readonly Knock[]): string =>
  `${name}\0${formatSequence(knocks)}`;
