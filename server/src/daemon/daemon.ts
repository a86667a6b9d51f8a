/**
 * The daemon core: config → doors → BPF → packets → detector → log lines, commands,
 * grants. Every effect comes in through deps.ts, so the whole life cycle (start,
 * knocks, timeouts, SIGHUP, capture loss, shutdown) is tested with a fake packet
 * source and a fake clock.
 *
 * Its parts live next to it: the door set (doors.ts), one-time-sequence rotation
 * (one-time.ts), rotating doors (../rotating/daemon-hooks.ts), the capture supervisor
 * (capture-supervisor.ts), the expiry timer (expiry.ts), SIGHUP's reports
 * (reload-report.ts), `status` (snapshot.ts) and `-D` lines (describe-packet.ts).
 * What stays here (about 500 lines) is the life cycle that ties them together and the
 * per-knock path (#onEvent, #handle), kept in one class on purpose: it is the hot path.
 */
import type { KnockdConfig } from '@knock/shared';
import type { KnockEvent } from '@knock/shared';
import {
  Detector,
  type DetectorAction,
  type DetectorDoor,
  type DetectorOptions,
} from '../detect/detector.js';
import type { SingleUseStore } from '../cluster/single-use.js';
import { DaemonStats } from '../metrics/stats.js';
import type { Logger } from './log.js';
import { RotatingDoors } from '../rotating/daemon-hooks.js';
import { MemoryUsedStore, type UsedSequenceStore } from '../rotating/used-store.js';
import type { HostLookup } from './lookup.js';
import { CaptureSupervisor } from './capture-supervisor.js';
import { describePacket } from './describe-packet.js';
import { DoorSet, type RunningDoor } from './doors.js';
import { ExpiryTimer } from './expiry.js';
import { OneTimeRotation } from './one-time.js';
import { noteRestartOnly, reportIssues } from './reload-report.js';
import {
  captureCounters,
  doorSnapshot,
  type ClusterHealth,
  type DaemonSnapshot,
} from './snapshot.js';
import {
  systemClock,
  type ActionsDeps,
  type CaptureDeps,
  type Clock,
  type ConfigLoad,
  type LocalAddresses,
  type OtsFileDeps,
} from './deps.js';

export type { ClusterHealth, DaemonSnapshot, DoorSnapshot } from './snapshot.js';

export interface DaemonDeps {
  configPath: string;
  /** The config to start with (already parsed and free of errors). */
  config: KnockdConfig;
  /** Reads and parses the config again (SIGHUP). */
  loadConfig: (path: string) => Promise<ConfigLoad>;
  interfaces: string[];
  ipv4Only: boolean;
  maxAttempts: number;
  capture: CaptureDeps;
  actions: ActionsDeps;
  ots: OtsFileDeps;
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

export class Daemon {
  readonly #deps: DaemonDeps;
  readonly #clock: Clock;
  readonly #log: Logger;
  #config: KnockdConfig;
  /** The options the daemon started with: what start-only settings (Interface, …) still use. */
  readonly #started: KnockdConfig['options'];
  readonly #doors = new DoorSet();
  #detector: Detector | undefined;
  #local: LocalAddresses = { v4: [], v6: [] };
  #filter = '';
  #stopWatching: (() => void) | undefined;
  #out: DetectorAction[] = [];
  #stopping = false;
  #reloading: Promise<void> | undefined;
  readonly #rotating: RotatingDoors;
  readonly #oneTime: OneTimeRotation;
  readonly #capture: CaptureSupervisor;
  readonly #expiry: ExpiryTimer;
  #stopUsedElsewhere: (() => void) | undefined;
  readonly #stats: DaemonStats;
  /** attemptsByDoor() walks the table: reused for a while (snapshot()). */
  #perDoor: { at: number; counts: Map<string, number> } | undefined;

  constructor(deps: DaemonDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
    this.#log = deps.log;
    this.#config = deps.config;
    this.#started = deps.config.options;
    this.#rotating = new RotatingDoors({
      clock: this.#clock,
      log: deps.log,
      store: deps.usedStore ?? new MemoryUsedStore(() => this.#clock.now()),
      ipv4Only: deps.ipv4Only,
      newId: () => this.#doors.newId(),
      replan: () => {
        if (this.#stopping) return;
        for (const d of this.#doors.list)
          if (d.derived) d.derived = this.#rotating.plan(d.door, d.derived);
        this.#index();
        this.#pushDoors();
        this.#rotating.arm(this.#doors.list.map((d) => d.door));
      },
    });
    const stopping = () => this.#stopping;
    this.#oneTime = new OneTimeRotation({
      doors: this.#doors,
      ots: deps.ots,
      actions: deps.actions,
      log: deps.log,
      singleUse: deps.singleUse,
      stopping,
      pushDoors: () => this.#pushDoors(),
    });
    this.#capture = new CaptureSupervisor({
      capture: deps.capture,
      interfaces: deps.interfaces,
      clock: this.#clock,
      log: deps.log,
      retryMs: deps.retryMs,
      stopping,
      onEvent: (event) => this.#onEvent(event),
      refreshAddresses: () => this.refreshAddresses(),
      buildFilter: () => (this.#filter = this.#buildFilter()),
    });
    this.#expiry = new ExpiryTimer({
      clock: this.#clock,
      log: deps.log,
      capture: deps.capture,
      detector: () => this.#detector,
      stopping,
      handle: (actions, now) => this.#handle(actions, now),
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
    const source = this.#capture.source;
    const failed = new Set(source?.failed ?? []);
    return {
      configPath: this.#deps.configPath,
      interfaces: this.#deps.interfaces.map((name) => ({
        name,
        capturing: source !== undefined && !failed.has(name),
      })),
      captureLost: this.#capture.lost,
      filter: this.#filter,
      doors: this.#doors.list.map((d) => doorSnapshot(d, now, perDoor)),
      attempts: {
        inProgress: detector?.size ?? 0,
        capacity: detector?.capacity ?? 0,
        max: this.#deps.maxAttempts,
        evictions: detector?.evictions ?? 0,
      },
      capture: captureCounters(source),
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
    this.#doors.replace(await this.#buildDoors(this.#config, undefined));
    this.#rotating.index(this.#doors.derived());
    this.#local = this.#readAddresses();
    const create = this.#deps.createDetector ?? ((d, o) => new Detector(d, o));
    this.#detector = create(this.#doors.active(), {
      maxAttempts: this.#deps.maxAttempts,
      localAddresses: this.#localList(),
    });
    try {
      this.#filter = this.#buildFilter();
    } catch (error) {
      // "No address to watch" often means "no such interface, or it is down": say that.
      await this.#capture.explainMissingInterface();
      throw error;
    }
    this.#log.debug(`filter: ${this.#filter}`);
    await this.#capture.open(this.#filter);
    this.#stopWatching = this.#deps.capture.watchAddresses(this.#deps.interfaces, () =>
      this.refreshAddresses(),
    );
    this.#stopUsedElsewhere = this.#deps.singleUse?.onUsedElsewhere((scope, id, node) =>
      this.#oneTime.usedElsewhere(scope, id, node),
    );
    this.#log.info('start', `starting up, listening on ${this.interfaces}`);
    this.#rotating.arm(this.#doors.list.map((d) => d.door));
    for (const d of this.#doors.list) if (d.disabled) this.#oneTime.logExhausted(d.door.name);
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
      await this.#oneTime.settled();
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
      const refused = reportIssues(loaded, this.#deps.configPath, this.#log);
      if (refused !== undefined) {
        this.#reloaded(false, refused);
        return;
      }
      let doors: RunningDoor[];
      try {
        doors = await this.#buildDoors(loaded.config, this.#doors.list);
      } catch (error) {
        this.#log.error(
          'reloadFailed',
          `${error instanceof Error ? error.message : String(error)}: keeping the running configuration`,
        );
        this.#reloaded(false, error instanceof Error ? error.message : String(error));
        return;
      }
      if (this.#stopping) return;
      const restartFor = noteRestartOnly(this.#started, loaded.config.options, this.#log);
      this.#config = loaded.config;
      this.#doors.replace(doors);
      this.#rotating.index(this.#doors.derived());
      this.#local = this.#readAddresses();
      this.#detector?.setLocalAddresses(this.#localList());
      this.#pushDoors();
      this.#rotating.arm(doors.map((d) => d.door));
      for (const d of doors) if (d.disabled && !d.rotating) this.#oneTime.logExhausted(d.door.name);
      this.#stats.configLoadedAt = this.#clock.now();
      this.#reloaded(
        true,
        `${doors.length} door${doors.length === 1 ? '' : 's'} loaded` +
          (restartFor.length > 0 ? `; ${restartFor.join(', ')}: at the next start` : ''),
      );
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
    this.#expiry.cancel();
    this.#expiry.cancelRelease();
    this.#rotating.stop();
    this.#capture.close();
    await this.#reloading?.catch(() => undefined);
    await this.#oneTime.settled();
    await this.#rotating.flush();
    await this.#deps.actions.runAllPendingNow();
    await this.#deps.actions.close();
    this.#log.info('stop', 'shutting down');
  }

  // --- packets -----------------------------------------------------------------------

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
      this.#expiry.notePeak(detector.capacity);
    } catch (error) {
      // A bug must not take the doors down: log it (once per packet) and go on.
      this.#log.error(
        'error',
        `internal error on a packet from ${event.src}: ${(error as Error).message} (a bug in knock-server: please report it)`,
      );
    }
    this.#expiry.arm();
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
        case 'timeout': {
          // The attempt's line: a stage taken, or the attempt ran out of Seq_Timeout.
          let msg: string;
          if (action.kind === 'stage') {
            counts.knock(action.stage);
            msg = `${who}: ${door}: Stage ${action.stage}${step}`;
          } else {
            counts.timeouts++;
            msg = `${who}: ${door}: sequence timeout (stage ${action.stage})${step}`;
          }
          this.#log.log({
            level: 'info',
            event: action.kind,
            msg,
            src,
            host,
            door,
            stage: action.stage,
            step: derived?.step,
          });
          break;
        }
        case 'open': {
          if (derived !== undefined) {
            const running = this.#doors.byId(action.door.id);
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
          const running = this.#doors.byId(action.door.id);
          if (!running || running.disabled) break;
          if (running.door.oneTimeSequences !== undefined)
            this.#oneTime.opened(running, src, action.family, who);
          else this.#deps.actions.open(running.door, src, action.family);
          break;
        }
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

  // --- doors, addresses, filter ------------------------------------------------------

  #buildDoors(config: KnockdConfig, previous: RunningDoor[] | undefined): Promise<RunningDoor[]> {
    return this.#doors.build(config, previous, {
      ots: this.#deps.ots,
      plan: (door, before) => this.#rotating.plan(door, before),
    });
  }

  #index(): void {
    this.#doors.index();
    this.#rotating.index(this.#doors.derived());
  }

  #pushDoors(): void {
    this.#detector?.setDoors(this.#doors.active());
    this.#applyFilter();
    this.#expiry.arm();
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
      this.#doors.active().map((d) => ({
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
    const source = this.#capture.source;
    if (!source) return;
    try {
      source.setFilter(filter);
    } catch (error) {
      this.#log.error(
        'capture',
        `cannot install the new capture filter: ${(error as Error).message}`,
      );
    }
  }
}
