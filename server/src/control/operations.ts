/**
 * The daemon's window for administrators: the control socket (`knock-server status`,
 * `knock-server metrics`) and, when `Metrics_Listen` asks for it, an HTTP endpoint
 * for Prometheus. Started by run.ts once the daemon runs; a failure here is logged
 * and never stops the daemon (the doors matter more than their dashboard).
 */
import type { Server } from 'node:http';
import { lstatSync, unlinkSync } from 'node:fs';
import type { KnockdConfig } from '@knock/shared';
import type { Daemon } from '../daemon/daemon.js';
import type { Logger } from '../daemon/log.js';
import type { ActionsDeps } from '../daemon/deps.js';
import { createMetrics, type Metrics } from '../metrics/registry.js';
import { DEFAULT_CONTROL_SOCKET, type StatusDocument } from './protocol.js';
import { startControlServer, type ControlServer } from './server.js';

export interface OperationsDeps {
  daemon: Daemon;
  actions: ActionsDeps;
  log: Logger;
  config: KnockdConfig;
  version: string;
  /** Overrides Control_Socket (tests). */
  controlSocket?: string;
}

export interface Operations {
  /** The control socket's path, when it listens. */
  readonly controlSocket: string | undefined;
  close(): Promise<void>;
}

/** Pending stop commands listed in a status (the count is always exact). */
const PENDING_SHOWN = 20;

export function statusDocument(
  deps: Pick<OperationsDeps, 'daemon' | 'actions' | 'log' | 'version'>,
): StatusDocument {
  const { daemon } = deps;
  const stats = daemon.stats;
  const snap = daemon.snapshot();
  const now = Date.now();
  const pending = deps.actions.pendingStops?.() ?? [];
  const memory = process.memoryUsage();
  return {
    version: deps.version,
    pid: process.pid,
    startedAt: stats.startedAt,
    now,
    config: {
      path: snap.configPath,
      loadedAt: stats.configLoadedAt,
      reloads: { ok: stats.reloadsOk, failed: stats.reloadsFailed },
      ...(stats.lastReload ? { lastReload: { ...stats.lastReload } } : {}),
    },
    interfaces: snap.interfaces,
    captureLost: snap.captureLost,
    ...(snap.capture ? { capture: snap.capture } : {}),
    packets: stats.packets,
    doors: snap.doors.map((d) => {
      const counts = stats.doors.get(d.name);
      return {
        name: d.name,
        ...(d.sequence !== undefined ? { sequence: d.sequence } : {}),
        ...(d.oneTimeSequences
          ? {
              oneTimeSequences: {
                file: d.oneTimeSequences.file,
                ...(d.oneTimeSequences.remaining !== undefined
                  ? { remaining: d.oneTimeSequences.remaining }
                  : {}),
              },
            }
          : {}),
        ...(d.rotatingSequences ? { rotatingSequences: { ...d.rotatingSequences } } : {}),
        state: d.state,
        inProgress: d.inProgress,
        knocks: [...(counts?.knocks ?? [])],
        opens: counts?.opens ?? 0,
        timeouts: counts?.timeouts ?? 0,
        wrongKnocks: counts?.wrongKnocks ?? 0,
      };
    }),
    attempts: snap.attempts,
    pendingStops: {
      count: pending.length,
      first: pending.slice(0, PENDING_SHOWN).map((p) => ({
        door: p.door,
        src: p.src,
        ...(p.due !== undefined ? { due: p.due } : {}),
      })),
    },
    commands: {
      run: stats.commandsRun,
      failed: stats.commandsFailed,
      killed: stats.commandsKilled,
    },
    firewall: {
      grants: stats.grants,
      bans: stats.bans,
      grantsActive: stats.activeGrants(now),
      bansActive: stats.activeBans(now),
      failures: stats.firewallFailures,
    },
    log: deps.log.health(),
    ...(snap.cluster ? { cluster: snap.cluster } : {}),
    memory: {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      external: memory.external,
    },
  };
}

/** Whether a Metrics_Listen host is a loopback address. */
export function isLoopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1';
}

/** `ADDR:PORT [public]` or a socket path, as the parser checked it. */
export function parseListen(
  value: string,
): { path: string } | { host: string; port: number; public: boolean } {
  if (value.startsWith('/')) return { path: value };
  const [address = '', flag] = value.split(/\s+/);
  const cut = address.lastIndexOf(':');
  const host = address.slice(0, cut).replace(/^\[|\]$/g, '');
  return { host, port: Number(address.slice(cut + 1)), public: flag?.toLowerCase() === 'public' };
}

export async function startOperations(deps: OperationsDeps): Promise<Operations> {
  const { log } = deps;
  let metrics: Promise<Metrics> | undefined;
  const getMetrics = (): Promise<Metrics> =>
    (metrics ??= createMetrics({ stats: deps.daemon.stats, status: () => statusDocument(deps) }));

  let control: ControlServer | undefined;
  const path = deps.controlSocket ?? deps.config.options.controlSocket ?? DEFAULT_CONTROL_SOCKET;
  if (path !== 'none') {
    try {
      control = await startControlServer({
        path,
        handlers: {
          status: () => ({ ok: true, status: statusDocument(deps) }),
          metrics: async () => ({ ok: true, metrics: await (await getMetrics()).text() }),
        },
      });
      log.debug(`control socket: ${path}`);
    } catch (error) {
      log.error(
        'error',
        `control socket: ${(error as Error).message}; knock-server status will not reach this daemon`,
      );
    }
  }

  let http: Server | undefined;
  let httpPath: string | undefined;
  const listen = deps.config.options.metricsListen;
  if (listen !== undefined) {
    const where = parseListen(listen);
    if ('host' in where && !isLoopback(where.host) && !where.public) {
      log.error(
        'error',
        `Metrics_Listen = ${listen} is not a loopback address: metrics not served (write "Metrics_Listen = ${listen} public" to serve them to the network)`,
      );
    } else {
      // node:http only when metrics are served over it: an idle daemon without
      // Metrics_Listen does not load it (about 1 MB of RSS, README "Memory").
      const { createServer } = await import('node:http');
      http = createServer((req, res) => {
        if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
          return;
        }
        getMetrics()
          .then(async (m) => {
            const body = await m.text();
            res.writeHead(200, { 'content-type': m.contentType }).end(body);
          })
          .catch((error: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`);
          });
      });
      http.headersTimeout = 5000;
      http.requestTimeout = 10_000;
      http.keepAliveTimeout = 5000;
      http.maxConnections = 64;
      try {
        await new Promise<void>((resolve, reject) => {
          http!.once('error', reject);
          if ('path' in where) {
            try {
              if (lstatSync(where.path).isSocket()) unlinkSync(where.path);
            } catch {
              // nothing there
            }
            httpPath = where.path;
            const umask = process.umask(0o177);
            http!.listen(where.path, () => resolve());
            process.umask(umask);
          } else http!.listen(where.port, where.host, () => resolve());
        });
        http.on('error', () => undefined);
        http.unref();
        if ('host' in where && where.public)
          log.error(
            'log',
            `WARNING: Prometheus metrics are served to the NETWORK on http://${listen.split(/\s+/)[0]}/metrics (Metrics_Listen ... public): anyone who can reach it reads door names and knock counts`,
          );
        else
          log.info(
            'log',
            `Prometheus metrics on ${'path' in where ? `unix:${where.path}:` : `http://${listen}`}/metrics`,
          );
        // prom-client is loaded now, not at the first scrape.
        void getMetrics();
      } catch (error) {
        log.error(
          'error',
          `Metrics_Listen = ${listen}: ${(error as Error).message}; metrics not served`,
        );
        http = undefined;
      }
    }
  }

  return {
    controlSocket: control?.path,
    async close() {
      await control?.close();
      if (http) {
        await new Promise<void>((resolve) => {
          http!.closeAllConnections();
          http!.close(() => resolve());
        });
        if (httpPath !== undefined)
          try {
            unlinkSync(httpPath);
          } catch {
            // gone already
          }
      }
    },
  };
}
