/**
 * What the daemon counts for `knock-server status` and the Prometheus metrics. Plain
 * number fields, bumped where things happen (the packet path included: one `++` per
 * packet, a Map lookup per knock); nothing here allocates per packet or knows about
 * prom-client, which reads these fields only when scraped (metrics/registry.ts).
 */

/** Upper bounds (seconds) of the first-knock-to-open histogram. */
export const OPEN_SECONDS_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

export class DoorStats {
  /** knocks[n - 1]: knocks that took a source to stage n. */
  readonly knocks: number[] = [];
  opens = 0;
  timeouts = 0;
  wrongKnocks = 0;

  knock(stage: number): void {
    const knocks = this.knocks;
    while (knocks.length < stage) knocks.push(0);
    knocks[stage - 1]!++;
  }
}

/** A histogram kept as cumulative-free bucket counts (the last one is +Inf). */
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export interface ReloadOutcome {
  /** When it finished (ms since the epoch). */
  at: number;
  ok: boolean;
  /** What it did, or why it failed. */
  message: string;
}

export class DaemonStats {
  /** Packets the capture delivered to the detector. */
  packets = 0;
  reloadsOk = 0;
  reloadsFailed = 0;
  /** The last SIGHUP's outcome (undefined: none yet). */
  lastReload: ReloadOutcome | undefined;
  /** When the running config was read (start, or the last good reload). */
  configLoadedAt: number;
  commandsRun = 0;
  /** Ended with a non-zero status, by a signal, or could not run at all. */
  commandsFailed = 0;
  /** Killed because they outlived Cmd_Timeout's runner limit. */
  commandsKilled = 0;
  /** Built-in firewall grants (Open_Ports) and bans (Ban) made, and those that failed. */
  grants = 0;
  bans = 0;
  firewallFailures = 0;
  /** Grants (`SRC DOOR`) and bans (`SRC`) made by this daemon → when they end (ms; Infinity: never). */
  readonly grantExpiries = new Map<string, number>();
  readonly banExpiries = new Map<string, number>();
  readonly doors = new Map<string, DoorStats>();
  readonly openSeconds = new Histogram(OPEN_SECONDS_BUCKETS);

  constructor(readonly startedAt: number) {
    this.configLoadedAt = startedAt;
  }

  /** Grants still in force (as far as this daemon knows: `fw flush` is not seen here). */
  activeGrants(now: number): number {
    return countActive(this.grantExpiries, now);
  }

  activeBans(now: number): number {
    return countActive(this.banExpiries, now);
  }

  door(name: string): DoorStats {
    let stats = this.doors.get(name);
    if (stats === undefined) {
      stats = new DoorStats();
      this.doors.set(name, stats);
    }
    return stats;
  }
}

function countActive(expiries: Map<string, number>, now: number): number {
  for (const [key, end] of expiries) if (end <= now) expiries.delete(key);
  return expiries.size;
}
