import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/registry.js';
import { DaemonStats } from '../../src/metrics/stats.js';
import type { StatusDocument } from '../../src/control/protocol.js';
import { PrometheusText } from '../helpers/prometheus-text.js';

function status(overrides: Partial<StatusDocument> = {}): StatusDocument {
  return {
    version: '1.2.3',
    pid: 42,
    startedAt: 1_700_000_000_000,
    now: 1_700_000_060_000,
    config: {
      path: '/etc/knockd.conf',
      loadedAt: 1_700_000_000_000,
      reloads: { ok: 0, failed: 0 },
    },
    interfaces: [
      { name: 'eth0', capturing: true },
      { name: 'wlan0', capturing: false },
    ],
    captureLost: true,
    capture: { received: 1000, kernelDropped: 7, interfaceDropped: 2 },
    packets: 993,
    doors: [
      {
        name: 'ssh',
        sequence: '1228,1227',
        state: 'armed',
        inProgress: 3,
        knocks: [],
        opens: 0,
        timeouts: 0,
        wrongKnocks: 0,
      },
      {
        name: 'otp',
        state: 'disabled',
        inProgress: 0,
        knocks: [],
        opens: 0,
        timeouts: 0,
        wrongKnocks: 0,
      },
    ],
    attempts: { inProgress: 3, capacity: 1024, max: 1_000_000, evictions: 5 },
    pendingStops: { count: 2, first: [] },
    commands: { run: 0, failed: 0, killed: 0 },
    firewall: { grants: 0, bans: 0, grantsActive: 0, bansActive: 0, failures: 0 },
    log: [{ destination: 'file /var/log/knockd.log', ok: false, problem: 'ENOSPC' }],
    memory: { rss: 50_000_000, heapUsed: 1, heapTotal: 2, external: 3 },
    ...overrides,
  };
}

describe('Prometheus metrics', () => {
  it('exports the counters as they are, in a text format a parser reads', async () => {
    const stats = new DaemonStats(1_700_000_000_000);
    stats.packets = 993;
    const ssh = stats.door('ssh');
    for (const stage of [1, 1, 1, 2, 2]) ssh.knock(stage);
    ssh.opens = 2;
    ssh.timeouts = 1;
    ssh.wrongKnocks = 1;
    stats.door('ban').knock(1);
    stats.bans = 1;
    stats.banExpiries.set('192.0.2.9', Infinity);
    stats.grants = 2;
    stats.grantExpiries.set('192.0.2.1 ssh', Date.now() + 60_000);
    stats.grantExpiries.set('192.0.2.2 ssh', Date.now() - 1);
    stats.commandsRun = 4;
    stats.commandsFailed = 2;
    stats.commandsKilled = 1;
    stats.reloadsOk = 3;
    stats.reloadsFailed = 1;
    stats.lastReload = { at: 1, ok: false, message: 'x' };
    stats.openSeconds.observe(0.004);
    stats.openSeconds.observe(1.5);
    const metrics = await createMetrics({ stats, status: () => status() });
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    const m = new PrometheusText(text);

    expect(m.family('knock_server_packets_total').type).toBe('COUNTER');
    expect(m.value('knock_server_packets_total')).toBe(993);
    expect(m.value('knock_server_capture_received_packets_total')).toBe(1000);
    expect(m.value('knock_server_capture_kernel_drops_total')).toBe(7);
    expect(m.value('knock_server_capture_interface_drops_total')).toBe(2);
    expect(m.value('knock_server_interface_capturing', { interface: 'eth0' })).toBe(1);
    expect(m.value('knock_server_interface_capturing', { interface: 'wlan0' })).toBe(0);
    expect(m.value('knock_server_knocks_total', { door: 'ssh', stage: '1' })).toBe(3);
    expect(m.value('knock_server_knocks_total', { door: 'ssh', stage: '2' })).toBe(2);
    expect(m.value('knock_server_knocks_total', { door: 'ban', stage: '1' })).toBe(1);
    expect(m.value('knock_server_opens_total', { door: 'ssh' })).toBe(2);
    expect(m.value('knock_server_sequence_timeouts_total', { door: 'ssh' })).toBe(1);
    expect(m.value('knock_server_wrong_knocks_total', { door: 'ssh' })).toBe(1);
    expect(m.value('knock_server_door_armed', { door: 'ssh' })).toBe(1);
    expect(m.value('knock_server_door_armed', { door: 'otp' })).toBe(0);
    expect(m.value('knock_server_bans_total')).toBe(1);
    expect(m.value('knock_server_bans_active')).toBe(1);
    expect(m.value('knock_server_grants_total')).toBe(2);
    expect(m.value('knock_server_grants_active')).toBe(1);
    expect(m.value('knock_server_commands_run_total')).toBe(4);
    expect(m.value('knock_server_commands_failed_total')).toBe(2);
    expect(m.value('knock_server_commands_killed_total')).toBe(1);
    expect(m.value('knock_server_stop_commands_pending')).toBe(2);
    expect(m.value('knock_server_reloads_total', { result: 'ok' })).toBe(3);
    expect(m.value('knock_server_reloads_total', { result: 'failed' })).toBe(1);
    expect(m.value('knock_server_last_reload_success')).toBe(0);
    expect(m.value('knock_server_attempts_in_progress')).toBe(3);
    expect(m.value('knock_server_attempt_evictions_total')).toBe(5);
    expect(
      m.value('knock_server_log_destination_up', { destination: 'file /var/log/knockd.log' }),
    ).toBe(0);
    expect(m.value('knock_server_build_info', { version: '1.2.3' })).toBe(1);
    expect(m.value('knock_server_start_time_seconds')).toBe(1_700_000_000);

    const histogram = m.family('knock_server_open_duration_seconds');
    expect(histogram.type).toBe('HISTOGRAM');
    const sample = histogram.metrics[0]!;
    expect(Number(sample.count)).toBe(2);
    expect(Number(sample.sum)).toBeCloseTo(1.504, 6);
    expect(Number(sample.buckets?.['0.005'])).toBe(1);
    expect(Number(sample.buckets?.['1'])).toBe(1);
    expect(Number(sample.buckets?.['2.5'])).toBe(2);
    expect(Number(sample.buckets?.['+Inf'])).toBe(2);

    // Prometheus conventions: one prefix, counters end in _total, HELP on every family.
    for (const family of m.families) {
      expect(family.name).toMatch(/^(knock_server_|process_)/);
      expect(family.help).not.toBe('');
      if (family.type === 'COUNTER') expect(family.name).toMatch(/_total$/);
    }
  });

  it('follows the counters between scrapes', async () => {
    const stats = new DaemonStats(0);
    const metrics = await createMetrics({ stats, status: () => status() });
    expect(new PrometheusText(await metrics.text()).value('knock_server_packets_total')).toBe(0);
    stats.packets = 5;
    stats.door('new').opens = 1;
    const m = new PrometheusText(await metrics.text());
    expect(m.value('knock_server_packets_total')).toBe(5);
    expect(m.value('knock_server_opens_total', { door: 'new' })).toBe(1);
  });
});
