import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/registry.js';
import { DaemonStats } from '../../src/metrics/stats.js';
import type { StatusDocument } from '../../src/control/protocol.js';
import { PrometheusText } from '../helpers/prometheus-text.js';

const contrib = (name: string) =>
  readFileSync(new URL(`../../contrib/${name}`, import.meta.url), 'utf8');

/** Every metric family the daemon exports (with one door, interface and log file). */
async function exported(): Promise<Set<string>> {
  const stats = new DaemonStats(0);
  stats.door('ssh').knock(1);
  const status = {
    version: '1',
    startedAt: 0,
    interfaces: [{ name: 'eth0', capturing: true }],
    doors: [{ name: 'ssh', state: 'armed', inProgress: 0 }],
    attempts: { inProgress: 0, capacity: 0, max: 1, evictions: 0 },
    pendingStops: { count: 0, first: [] },
    log: [{ destination: 'file /x', ok: true }],
    memory: { rss: 1 },
  } as unknown as StatusDocument;
  const text = await (await createMetrics({ stats, status: () => status })).text();
  return new Set(new PrometheusText(text).families.map((f) => f.name));
}

/** Names of knock-server's metrics used in PromQL texts (histogram series mapped to their family). */
const used = (exprs: string[]): Set<string> =>
  new Set(
    exprs
      .flatMap((e) => e.match(/\b(knock_server_[a-z_]+|process_resident_memory_bytes)\b/g) ?? [])
      .map((n) => n.replace(/_(bucket|sum|count)$/, '')),
  );

describe('server/contrib', () => {
  it('the Grafana dashboard is JSON whose queries use only exported metrics', async () => {
    const dashboard = JSON.parse(contrib('knock-server-dashboard.json')) as {
      title: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dashboard.title).toBe('knock-server');
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const names = used(exprs);
    expect(names.size).toBeGreaterThan(15);
    const families = await exported();
    for (const name of names) expect(families, name).toContain(name);
  });

  it('the alert rules cover daemon down, kernel drops and a failed reload, with exported metrics', async () => {
    const text = contrib('knock-server-alerts.yml');
    const alerts = [...text.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]);
    expect(alerts).toEqual(
      expect.arrayContaining([
        'KnockServerDown',
        'KnockServerKernelDrops',
        'KnockServerReloadFailed',
      ]),
    );
    const families = await exported();
    for (const name of used([text])) expect(families, name).toContain(name);
  });
});
