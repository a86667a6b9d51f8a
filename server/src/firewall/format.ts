/**
 * What `knock-server fw` prints about the firewall (pure): ports, remaining times, the
 * `fw list` table and the `fw status` report. The command itself is server/src/cli/fw.ts.
 */
import type { FirewallEntry, FirewallSpec, FirewallStatus, PortSpec } from './types.js';

/** `22/tcp`. */
export const showPort = (p: PortSpec): string => `${p.port}/${p.protocol}`;

/** `4m57s`, `1h0m5s`, `forever`. */
export function showRemaining(seconds: number | undefined): string {
  if (seconds === undefined) return 'forever';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

/** The `fw list` table: one aligned row per grant, ban or trusted network. */
export function formatEntries(entries: readonly FirewallEntry[]): string {
  if (entries.length === 0) return 'no grants or bans\n';
  // A cluster node also says who made each entry (and which it lacks itself).
  const cluster = entries.some((e) => e.node !== undefined);
  const rows = entries.map((e) => [
    e.kind,
    e.address,
    e.port ? showPort(e.port) : '-',
    e.kind === 'trusted'
      ? 'always'
      : `${showRemaining(e.remaining)}${e.remaining === undefined ? '' : ' left'}`,
    ...(cluster ? [showOrigin(e)] : []),
  ]);
  const last = rows[0]!.length - 1;
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows.map((r) => r.map((c, i) => (i < last ? c.padEnd(widths[i]!) : c)).join('  ')).join('\n') +
    '\n'
  );
}

const showOrigin = (e: FirewallEntry): string =>
  e.node === undefined
    ? 'node ? (not in the cluster)'
    : `node ${e.node}${e.door !== undefined ? ` door ${e.door}` : ''}${e.here === false ? ' (not applied on this node)' : ''}`;

/** The `fw status` report. */
export function formatStatus(s: FirewallStatus): string {
  return (
    [
      `backend:   ${s.kind} (${s.detail})`,
      `active:    ${s.active ? 'yes' : 'no: run `knock-server fw setup`'}`,
      `protected: ${s.protectedPorts.map(showPort).join(', ') || '-'}`,
      `grants:    ${s.grants}`,
      `bans:      ${s.bans}`,
      `trusted:   ${s.trusted}`,
    ].join('\n') + '\n'
  );
}

/** What `fw setup` made: `nftables: protecting 22/tcp (NEW connections); 2 trusted addresses or networks`. */
export function describeSetup(kind: string, spec: FirewallSpec): string {
  const n = spec.trusted.length;
  return (
    `${kind}: protecting ${spec.protectedPorts.map(showPort).join(', ')} (NEW connections); ` +
    `${n} trusted address${n === 1 ? '' : 'es'} or network${n === 1 ? '' : 's'}`
  );
}
