/**
 * The Prometheus metrics, in the text exposition format, through prom-client. Every
 * metric reads the daemon's plain counters (stats.ts) in its collect(), at scrape
 * time: the packet path never calls prom-client. prom-client itself is loaded on the
 * first scrape only (it costs a few MB), so a daemon nobody scrapes does not pay for it.
 *
 * Names follow the Prometheus conventions: `knock_server_` prefix, `_total` for
 * counters, base units (seconds, bytes).
 */
import type * as PromClient from 'prom-client';
import type { StatusDocument } from '../control/protocol.js';
import type { DaemonStats } from './stats.js';

export interface MetricsInput {
  stats: DaemonStats;
  /** The status document of the moment (interfaces, doors, capture counters, …). */
  status(): StatusDocument;
}

export interface Metrics {
  contentType: string;
  text(): Promise<string>;
}

type Prom = typeof PromClient;

/** How a group of metrics is declared: each reads the daemon's state at scrape time. */
interface Define {
  counter: (name: string, help: string, read: () => number) => PromClient.Counter<string>;
  gauge: (name: string, help: string, read: () => number) => PromClient.Gauge<string>;
  /** A labelled metric (per door, interface, …): `fill` sets every series at each scrape. */
  perDoor: (
    name: string,
    help: string,
    labelNames: string[],
    fill: (set: (labels: Record<string, string>, value: number) => void) => void,
    type?: 'counter' | 'gauge',
  ) => void;
  /** The status document of this scrape. */
  doc: () => StatusDocument;
  stats: DaemonStats;
}

let loading: Promise<Prom> | undefined;
const loadProm = (): Promise<Prom> =>
  (loading ??= import('prom-client').then((mod) => mod.default as unknown as Prom));

/** Builds the registry (loading prom-client) for this daemon. */
export async function createMetrics(input: MetricsInput): Promise<Metrics> {
  const prom = await loadProm();
  const registry = new prom.Registry();
  const stats = input.stats;
  // One status document per scrape, shared by every collect() of that scrape.
  let current: { at: number; doc: StatusDocument } | undefined;
  const doc = (): StatusDocument => {
    const now = Date.now();
    if (current === undefined || now - current.at > 50) current = { at: now, doc: input.status() };
    return current.doc;
  };

  const counter = (name: string, help: string, read: () => number): PromClient.Counter<string> =>
    new prom.Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  const gauge = (name: string, help: string, read: () => number): PromClient.Gauge<string> =>
    new prom.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  const perDoor = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (set: (labels: Record<string, string>, value: number) => void) => void,
    type: 'counter' | 'gauge' = 'counter',
  ): void => {
    if (type === 'counter')
      new prom.Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          fill((labels, value) => this.inc(labels, value));
        },
      });
    else
      new prom.Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          fill((labels, value) => this.set(labels, value));
        },
      });
  };

  const define: Define = { counter, gauge, perDoor, doc, stats };
  // In this order in the exposition (prom-client lists metrics as they are registered).
  processMetrics(define);
  captureMetrics(define);
  doorMetrics(define);
  firewallMetrics(define);
  commandMetrics(define);
  reloadMetrics(define);
  attemptAndLogMetrics(define);

  registry.registerMetric(openSecondsHistogram(prom, stats));

  return {
    contentType: registry.contentType,
    text: () => registry.metrics(),
  };
}

/** The process: when it started, its version, its memory. */
function processMetrics({ gauge, perDoor, doc }: Define): void {
  gauge('knock_server_start_time_seconds', 'When the daemon started (Unix time).', () =>
    Math.floor(doc().startedAt / 1000),
  );
  perDoor(
    'knock_server_build_info',
    'Always 1; the version in a label.',
    ['version'],
    (set) => set({ version: doc().version }, 1),
    'gauge',
  );
  gauge(
    'process_resident_memory_bytes',
    'Resident memory of the daemon process.',
    () => doc().memory.rss,
  );
}

/** Capture: packets seen and dropped, each interface, the cluster link. */
function captureMetrics({ counter, perDoor, doc, stats }: Define): void {
  counter(
    'knock_server_packets_total',
    'Packets the capture filter let through to the knock detector.',
    () => stats.packets,
  );
  counter(
    'knock_server_capture_received_packets_total',
    'Packets libpcap received (pcap_stats ps_recv), over every capture handle.',
    () => doc().capture?.received ?? 0,
  );
  counter(
    'knock_server_capture_kernel_drops_total',
    'Packets the kernel dropped because the capture ring was full (pcap_stats ps_drop).',
    () => doc().capture?.kernelDropped ?? 0,
  );
  counter(
    'knock_server_capture_interface_drops_total',
    'Packets the network interface dropped (pcap_stats ps_ifdrop).',
    () => doc().capture?.interfaceDropped ?? 0,
  );
  perDoor(
    'knock_server_cluster_reachable',
    'With Cluster =: 1 while this node reaches the cluster store, 0 while it is lost (no series without a cluster).',
    ['node'],
    (set) => {
      const cluster = doc().cluster;
      if (cluster) set({ node: cluster.node }, cluster.reachable ? 1 : 0);
    },
    'gauge',
  );
  perDoor(
    'knock_server_interface_capturing',
    '1 when the capture on this interface is open, 0 while it is lost and retried.',
    ['interface'],
    (set) => {
      for (const i of doc().interfaces) set({ interface: i.name }, i.capturing ? 1 : 0);
    },
    'gauge',
  );
}

/** Each door: knocks by stage, opens, timeouts, wrong knocks, its state. */
function doorMetrics({ perDoor, doc, stats }: Define): void {
  perDoor(
    'knock_server_knocks_total',
    'Knocks that took a source to this stage of this door.',
    ['door', 'stage'],
    (set) => {
      for (const [door, s] of stats.doors)
        s.knocks.forEach((n, i) => set({ door, stage: String(i + 1) }, n));
    },
  );
  perDoor('knock_server_opens_total', 'Doors opened (OPEN SESAME).', ['door'], (set) => {
    for (const [door, s] of stats.doors) set({ door }, s.opens);
  });
  perDoor(
    'knock_server_sequence_timeouts_total',
    'Attempts that ran out of Seq_Timeout.',
    ['door'],
    (set) => {
      for (const [door, s] of stats.doors) set({ door }, s.timeouts);
    },
  );
  perDoor(
    'knock_server_wrong_knocks_total',
    'Attempts ended by a knock on the wrong port.',
    ['door'],
    (set) => {
      for (const [door, s] of stats.doors) set({ door }, s.wrongKnocks);
    },
  );
  perDoor(
    'knock_server_door_armed',
    '1 when the door listens for its sequence, 0 when it is disabled or rotating.',
    ['door'],
    (set) => {
      for (const d of doc().doors) set({ door: d.name }, d.state === 'armed' ? 1 : 0);
    },
    'gauge',
  );
  perDoor(
    'knock_server_attempts_in_progress_by_door',
    'Knock attempts in progress, per door.',
    ['door'],
    (set) => {
      for (const d of doc().doors) set({ door: d.name }, d.inProgress);
    },
    'gauge',
  );
}

/** The built-in firewall: grants and bans made, refused, active. */
function firewallMetrics({ counter, gauge, stats }: Define): void {
  counter(
    'knock_server_grants_total',
    'Built-in firewall grants made (Open_Ports).',
    () => stats.grants,
  );
  counter('knock_server_bans_total', 'Built-in firewall bans made (Ban).', () => stats.bans);
  counter(
    'knock_server_firewall_failures_total',
    'Grants and bans the firewall backend refused.',
    () => stats.firewallFailures,
  );
  gauge('knock_server_grants_active', 'Grants made by this daemon that have not expired.', () =>
    stats.activeGrants(Date.now()),
  );
  gauge('knock_server_bans_active', 'Bans made by this daemon that have not expired.', () =>
    stats.activeBans(Date.now()),
  );
}

/** Door commands: run, failed, killed, stop commands pending. */
function commandMetrics({ counter, gauge, doc, stats }: Define): void {
  counter('knock_server_commands_run_total', 'Door commands started.', () => stats.commandsRun);
  counter(
    'knock_server_commands_failed_total',
    'Door commands that failed (non-zero status, signal, could not run, killed).',
    () => stats.commandsFailed,
  );
  counter(
    'knock_server_commands_killed_total',
    'Door commands killed because they outlived their timeout.',
    () => stats.commandsKilled,
  );
  gauge(
    'knock_server_stop_commands_pending',
    'Stop commands waiting for their Cmd_Timeout.',
    () => doc().pendingStops.count,
  );
}

/** Reloads (SIGHUP) and the running config. */
function reloadMetrics({ gauge, perDoor, stats }: Define): void {
  perDoor(
    'knock_server_reloads_total',
    'Config reloads (SIGHUP), by result.',
    ['result'],
    (set) => {
      set({ result: 'ok' }, stats.reloadsOk);
      set({ result: 'failed' }, stats.reloadsFailed);
    },
  );
  gauge(
    'knock_server_last_reload_success',
    '1 when the last reload succeeded (or none happened yet), 0 when it failed.',
    () => (stats.lastReload === undefined || stats.lastReload.ok ? 1 : 0),
  );
  gauge(
    'knock_server_config_loaded_time_seconds',
    'When the running config was read (Unix time).',
    () => Math.floor(stats.configLoadedAt / 1000),
  );
}

/** The attempt table, and the log destinations. */
function attemptAndLogMetrics({ counter, gauge, perDoor, doc }: Define): void {
  gauge(
    'knock_server_attempts_in_progress',
    'Knock attempts in progress (attempt table size).',
    () => doc().attempts.inProgress,
  );
  gauge(
    'knock_server_attempts_capacity',
    'Attempt table slots allocated now.',
    () => doc().attempts.capacity,
  );
  gauge(
    'knock_server_attempts_max',
    'Most attempts tracked at once (--max-attempts).',
    () => doc().attempts.max,
  );
  counter(
    'knock_server_attempt_evictions_total',
    'Attempts dropped because the table was full (oldest first).',
    () => doc().attempts.evictions,
  );
  perDoor(
    'knock_server_log_destination_up',
    '1 when lines reach this log destination, 0 while it fails.',
    ['destination'],
    (set) => {
      for (const l of doc().log) set({ destination: l.destination }, l.ok ? 1 : 0);
    },
    'gauge',
  );
}
/**
 * First knock to OPEN SESAME, in seconds. The observations are counted in
 * stats.openSeconds as they happen (without prom-client); this histogram only
 * exports those counts, in prom-client's own format for a histogram.
 */
const HELP = 'Time from the first knock of a sequence to OPEN SESAME.';

function openSecondsHistogram(prom: Prom, stats: DaemonStats): PromClient.Histogram<string> {
  const source = stats.openSeconds;
  type Exported = Awaited<ReturnType<PromClient.Histogram<string>['get']>>;
  class ExportedHistogram extends prom.Histogram<string> {
    override get(): Promise<Exported> {
      const name = 'knock_server_open_duration_seconds';
      const values: {
        metricName: string;
        labels: Record<string, string | number>;
        value: number;
      }[] = [];
      let cumulative = 0;
      source.bounds.forEach((bound, i) => {
        cumulative += source.counts[i]!;
        values.push({ metricName: `${name}_bucket`, labels: { le: bound }, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: source.count });
      values.push({ metricName: `${name}_sum`, labels: {}, value: source.sum });
      values.push({ metricName: `${name}_count`, labels: {}, value: source.count });
      const exported = { name, help: HELP, type: 'histogram', values, aggregator: 'sum' };
      return Promise.resolve(exported as unknown as Exported);
    }
  }
  const histogram = new ExportedHistogram({
    name: 'knock_server_open_duration_seconds',
    help: HELP,
    buckets: [...source.bounds],
    registers: [],
  });
  // The registry prefers getForPromString when a metric has one: the same values.
  (histogram as unknown as { getForPromString: () => Promise<unknown> }).getForPromString = () =>
    histogram.get();
  return histogram;
}
