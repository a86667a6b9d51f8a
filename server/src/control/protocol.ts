/**
 * The control socket's protocol, pure: one request line, one response line, JSON.
 *
 *   client → daemon   {"cmd":"status"}\n      or  {"cmd":"metrics"}\n
 *   daemon → client   {"ok":true,"status":{…}}\n  {"ok":true,"metrics":"# HELP …"}\n
 *                     {"ok":false,"error":"…"}\n
 *
 * Then the daemon closes the connection. A request is at most MAX_REQUEST_BYTES; a
 * longer one, or one that is not such JSON, gets an error response.
 */

import type { ClusterHealth } from '../daemon/daemon.js';
export const DEFAULT_CONTROL_SOCKET = '/run/knock-server.sock';
/** Longest request line accepted (a real one is ~20 bytes). */
export const MAX_REQUEST_BYTES = 1024;

export type ControlCommand = 'status' | 'metrics';
const COMMANDS: readonly ControlCommand[] = ['status', 'metrics'];

export type ParsedRequest = { ok: true; cmd: ControlCommand } | { ok: false; error: string };

/** Reads one request line (without its newline). */
export function parseRequest(line: string): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, error: 'not a JSON request: send {"cmd":"status"} and a newline' };
  }
  const cmd = (value as { cmd?: unknown } | null)?.cmd;
  if (typeof value !== 'object' || value === null || typeof cmd !== 'string')
    return { ok: false, error: 'the request has no "cmd"' };
  if (!(COMMANDS as readonly string[]).includes(cmd))
    return { ok: false, error: `unknown command "${cmd}" (known: ${COMMANDS.join(', ')})` };
  return { ok: true, cmd: cmd as ControlCommand };
}

export interface DoorStatus {
  name: string;
  /** The sequence in force; undefined while a one-time door rotates or is used up. */
  sequence?: string;
  oneTimeSequences?: { file: string; remaining?: number };
  /** Sequence_Secret: the step of the daemon's clock, and how many derived sequences are watched. */
  rotatingSequences?: { step: number; accepted: number };
  state: 'armed' | 'rotating' | 'disabled';
  inProgress: number;
  /** knocks[n - 1]: knocks that reached stage n. */
  knocks: number[];
  opens: number;
  timeouts: number;
  wrongKnocks: number;
}

/** Everything `knock-server status` shows; `status --json` prints it as is. */
export interface StatusDocument {
  version: string;
  pid: number;
  /** ms since the epoch */
  startedAt: number;
  now: number;
  config: {
    path: string;
    loadedAt: number;
    reloads: { ok: number; failed: number };
    lastReload?: { at: number; ok: boolean; message: string };
  };
  interfaces: { name: string; capturing: boolean }[];
  captureLost: boolean;
  capture?: { received: number; kernelDropped: number; interfaceDropped: number };
  packets: number;
  doors: DoorStatus[];
  attempts: { inProgress: number; capacity: number; max: number; evictions: number };
  pendingStops: { count: number; first: { door: string; src: string; due?: number }[] };
  commands: { run: number; failed: number; killed: number };
  firewall: {
    grants: number;
    bans: number;
    grantsActive: number;
    bansActive: number;
    failures: number;
  };
  log: { destination: string; ok: boolean; problem?: string }[];
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number };
  /** With Cluster =: this node's view of the store (`knock-server cluster status` says more). */
  cluster?: ClusterHealth;
}

export type Response =
  | { ok: true; status: StatusDocument }
  | { ok: true; metrics: string }
  | { ok: false; error: string };

// --- rendering (`knock-server status`) ------------------------------------------------

export function formatDuration(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

const ago = (now: number, at: number): string => `${formatDuration(now - at)} ago`;
const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** The human view of a status document (what `knock-server status` prints). */
export function renderStatus(s: StatusDocument): string {
  const lines: string[] = [];
  const now = s.now;
  lines.push(
    `knock-server ${s.version}, pid ${s.pid}, up ${formatDuration(now - s.startedAt)} (memory ${mb(s.memory.rss)} RSS)`,
  );
  const reload = s.config.lastReload;
  lines.push(`config     ${s.config.path}, loaded ${ago(now, s.config.loadedAt)}`);
  lines.push(
    `reloads    ${s.config.reloads.ok} ok, ${s.config.reloads.failed} failed` +
      (reload
        ? `; last ${ago(now, reload.at)}: ${reload.ok ? 'ok' : 'FAILED'}: ${reload.message}`
        : ''),
  );
  const ifs = s.interfaces
    .map((i) => `${i.name} (${i.capturing ? 'capturing' : 'NOT capturing: retrying'})`)
    .join(', ');
  lines.push(`interfaces ${ifs}`);
  const c = s.capture;
  lines.push(
    c
      ? `capture    ${c.received} received, ${c.kernelDropped} dropped by the kernel, ${c.interfaceDropped} dropped by the interface; ${s.packets} knock packets seen`
      : `capture    no counters (capture not open); ${s.packets} knock packets seen`,
  );
  lines.push(
    `attempts   ${s.attempts.inProgress} in progress (table ${s.attempts.capacity} of at most ${s.attempts.max} slots), ${s.attempts.evictions} evicted`,
  );
  lines.push(
    `commands   ${s.commands.run} run, ${s.commands.failed} failed, ${s.commands.killed} killed at their timeout; ${plural(s.pendingStops.count, 'stop command')} pending`,
  );
  for (const p of s.pendingStops.first)
    lines.push(
      `             ${p.door} for ${p.src}: ${p.due === undefined ? 'after its start command' : `in ${formatDuration(p.due - now)}`}`,
    );
  if (s.pendingStops.count > s.pendingStops.first.length)
    lines.push(`             … and ${s.pendingStops.count - s.pendingStops.first.length} more`);
  const f = s.firewall;
  lines.push(
    `firewall   ${f.grants} grants (${f.grantsActive} active), ${f.bans} bans (${f.bansActive} active), ${f.failures} failed; knock-server fw list shows them`,
  );
  const cl = s.cluster;
  if (cl)
    lines.push(
      `cluster    ${cl.url} as node ${cl.node}: ` +
        (cl.reachable
          ? `reachable${cl.lagMs === undefined ? '' : `, fan-out ${cl.lagMs.toFixed(1)} ms`}`
          : `UNREACHABLE${cl.lostSince === undefined ? '' : ` for ${formatDuration(now - cl.lostSince)}`} (knocks served here; one-time knocks ${cl.fail === 'closed' ? 'refused' : 'accepted here only'})`) +
        '; knock-server cluster status shows every node',
    );
  lines.push(
    `log        ${s.log.length === 0 ? 'no file or syslog (stdout only)' : s.log.map((l) => `${l.destination} ${l.ok ? 'ok' : `FAILING (${l.problem ?? 'unknown'})`}`).join(', ')}`,
  );
  lines.push('');
  const rows = [
    ['door', 'sequence', 'state', 'in progress', 'knocks by stage', 'opens', 'timeouts', 'wrong'],
  ];
  for (const d of s.doors) {
    const ots = d.oneTimeSequences;
    const derived = d.rotatingSequences;
    const sequence =
      (d.sequence ??
        (derived ? `secret-derived, step ${derived.step} (${derived.accepted} watched)` : '-')) +
      (ots ? ` (one-time, ${ots.remaining === undefined ? '?' : ots.remaining} left)` : '');
    rows.push([
      d.name,
      sequence,
      d.state,
      String(d.inProgress),
      d.knocks.length === 0 ? '-' : d.knocks.join('/'),
      String(d.opens),
      String(d.timeouts),
      String(d.wrongKnocks),
    ]);
  }
  lines.push(...table(rows));
  return `${lines.join('\n')}\n`;
}
