// The nftables ruleset as text for `nft -f -` (pure). One table we own, `inet knock`;
// grants and bans are set elements with kernel timeouts, so they expire on time even
// when no process of ours is alive.
import type { FirewallEntry, FirewallSpec, PortSpec } from './types.js';
import { familyOf } from './address.js';

export const NFT_TABLE = 'inet knock';
export const LOG_PREFIX = '[knock,drop] ';

type Family = 4 | 6;
const sets = {
  trusted: (f: Family) => `trusted${f}`,
  granted: (f: Family) => `granted${f}`,
  banned: (f: Family) => `banned${f}`,
};

const portElem = (p: PortSpec) => `${p.protocol} . ${p.port}`;
const timeout = (seconds: number) => (seconds > 0 ? ` timeout ${Math.round(seconds)}s` : '');
const addrType = (f: Family) => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');

/**
 * Creates the table, sets and chains if missing, rewrites the chains, the protected
 * ports and the trusted sets, and leaves grants and bans as they are. Running it twice
 * gives the same ruleset.
 */
export function nftSetupText(spec: FirewallSpec): string {
  const lines = [`add table ${NFT_TABLE}`];
  for (const f of [4, 6] as const) {
    lines.push(
      `add set ${NFT_TABLE} ${sets.trusted(f)} { type ${addrType(f)}; flags interval; auto-merge; }`,
      `add set ${NFT_TABLE} ${sets.granted(f)} { type ${addrType(f)} . inet_proto . inet_service; flags timeout; }`,
      `add set ${NFT_TABLE} ${sets.banned(f)} { type ${addrType(f)}; flags timeout; }`,
    );
  }
  lines.push(
    `add set ${NFT_TABLE} protected { type inet_proto . inet_service; }`,
    // Before the usual filter chains (priority 0), so our drop comes first.
    `add chain ${NFT_TABLE} input { type filter hook input priority -10; policy accept; }`,
    `add chain ${NFT_TABLE} gate`,
    `flush chain ${NFT_TABLE} input`,
    `flush chain ${NFT_TABLE} gate`,
    `flush set ${NFT_TABLE} protected`,
    `flush set ${NFT_TABLE} trusted4`,
    `flush set ${NFT_TABLE} trusted6`,
  );
  const ports = uniquePorts(spec.protectedPorts);
  if (ports.length > 0)
    lines.push(`add element ${NFT_TABLE} protected { ${ports.map(portElem).join(', ')} }`);
  for (const f of [4, 6] as const) {
    const members = spec.trusted.filter((t) => familyOf(t) === f);
    if (members.length > 0)
      lines.push(`add element ${NFT_TABLE} ${sets.trusted(f)} { ${members.join(', ')} }`);
  }
  // The seed's order: banned, trusted, granted, log and drop; NEW connections only.
  lines.push(
    `add rule ${NFT_TABLE} input ct state new meta l4proto . th dport @protected jump gate`,
    `add rule ${NFT_TABLE} gate ip saddr @banned4 drop`,
    `add rule ${NFT_TABLE} gate ip6 saddr @banned6 drop`,
    `add rule ${NFT_TABLE} gate ip saddr @trusted4 accept`,
    `add rule ${NFT_TABLE} gate ip6 saddr @trusted6 accept`,
    `add rule ${NFT_TABLE} gate ip saddr . meta l4proto . th dport @granted4 accept`,
    `add rule ${NFT_TABLE} gate ip6 saddr . meta l4proto . th dport @granted6 accept`,
    // Rate-limited so a scan cannot flood the kernel log; the drop itself is not limited.
    `add rule ${NFT_TABLE} gate limit rate 10/second burst 20 packets log prefix "${LOG_PREFIX}"`,
    `add rule ${NFT_TABLE} gate drop`,
  );
  return lines.join('\n') + '\n';
}

/**
 * Adds or deletes `elem` without failing when it is (not) there: add it first (a no-op
 * when present), then delete, in the same transaction.
 */
const replaceElem = (set: string, elem: string, then?: string) => [
  `add element ${NFT_TABLE} ${set} { ${elem} }`,
  `delete element ${NFT_TABLE} ${set} { ${elem} }`,
  ...(then === undefined ? [] : [`add element ${NFT_TABLE} ${set} { ${then} }`]),
];

/** Grants (or refreshes: one element per address and port, never a duplicate). */
export function nftGrantText(
  address: string,
  ports: readonly PortSpec[],
  seconds: number,
  inPlace = false,
): string {
  const set = sets.granted(familyOf(address));
  return (
    uniquePorts(ports)
      .flatMap((p) => {
        const elem = `${address} . ${portElem(p)}`;
        // A kernel that updates timeouts in place: one `add` creates or refreshes the
        // element, which never leaves the set. `timeout 0` cannot be written: without a
        // timeout an existing element keeps its old one, so "until flushed" re-adds.
        // `expires` too: with the same timeout alone the kernel leaves the element as it is.
        return inPlace && seconds > 0
          ? [`add element ${NFT_TABLE} ${set} { ${elem}${timeout(seconds)} expires ${seconds}s }`]
          : replaceElem(set, elem, `${elem}${timeout(seconds)}`);
      })
      .join('\n') + '\n'
  );
}

// The in-place probe: in a scratch table, an element added to expire in 1 s, then (another
// transaction, as a refresh is) again with the same timeout, to expire in 1 h; the listing
// shows whether the kernel moved its expiry.
const PROBE_TABLE = 'inet knock_probe';
export const nftInPlaceProbeTexts = (): string[] => [
  [
    `add table ${PROBE_TABLE}`,
    `delete table ${PROBE_TABLE}`,
    `add table ${PROBE_TABLE}`,
    `add set ${PROBE_TABLE} s { type ipv4_addr; flags timeout; }`,
    `add element ${PROBE_TABLE} s { 192.0.2.1 timeout 1h expires 1s }`,
  ].join('\n') + '\n',
  `add element ${PROBE_TABLE} s { 192.0.2.1 timeout 1h expires 1h }\n`,
];
export const NFT_PROBE_LIST = ['-j', 'list', 'set', ...PROBE_TABLE.split(' '), 's'];
export const nftInPlaceProbeCleanupText = (): string =>
  `add table ${PROBE_TABLE}\ndelete table ${PROBE_TABLE}\n`;
/** True when the probe's listing shows the element expiring in more than a minute. */
export function nftInPlaceProbeUpdated(json: string): boolean {
  const expires = /"expires":\s*(\d+)/.exec(json)?.[1];
  return expires !== undefined && Number(expires) > 60;
}

export function nftBanText(address: string, seconds: number): string {
  const set = sets.banned(familyOf(address));
  return replaceElem(set, address, `${address}${timeout(seconds)}`).join('\n') + '\n';
}

export function nftUnbanText(address: string): string {
  return replaceElem(sets.banned(familyOf(address)), address).join('\n') + '\n';
}

export function nftTrustText(cidr: string): string {
  return `add element ${NFT_TABLE} ${sets.trusted(familyOf(cidr))} { ${cidr} }\n`;
}

/** Removes the given grants (as listed), tolerating any that expired meanwhile. */
export function nftRevokeText(grants: readonly FirewallEntry[]): string {
  return grants
    .filter((g) => g.kind === 'grant' && g.port !== undefined)
    .flatMap((g) =>
      replaceElem(sets.granted(familyOf(g.address)), `${g.address} . ${portElem(g.port!)}`),
    )
    .map((l) => l + '\n')
    .join('');
}

export const nftFlushGrantsText = (): string =>
  `flush set ${NFT_TABLE} granted4\nflush set ${NFT_TABLE} granted6\n`;
export const nftFlushBansText = (): string =>
  `flush set ${NFT_TABLE} banned4\nflush set ${NFT_TABLE} banned6\n`;
/** `add` first so deleting a table that is not there is not an error. */
export const nftTeardownText = (): string => `add table ${NFT_TABLE}\ndelete table ${NFT_TABLE}\n`;

export function uniquePorts(ports: readonly PortSpec[]): PortSpec[] {
  const seen = new Map<string, PortSpec>();
  for (const p of ports)
    seen.set(`${p.protocol}/${p.port}`, { port: p.port, protocol: p.protocol });
  return [...seen.values()];
}

// ---- reading `nft -j list table inet knock` ----

export interface NftTable {
  entries: FirewallEntry[];
  protectedPorts: PortSpec[];
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null;

/** Text of one set value: an address, `a/len`, `a-b`, or a concatenation's parts. */
function valueParts(value: Json): Json[] {
  if (isObject(value) && Array.isArray(value.concat)) return value.concat;
  return [value];
}

function addressText(value: Json): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && isObject(value.prefix)) {
    const { addr, len } = value.prefix;
    return `${String(addr)}/${String(len)}`;
  }
  if (isObject(value) && Array.isArray(value.range)) return value.range.map(String).join('-');
  return undefined;
}

/** Parses the JSON of `nft -j list table inet knock` into our entries. */
export function parseNftTable(json: string): NftTable {
  const doc = JSON.parse(json) as Json;
  const items = isObject(doc) && Array.isArray(doc.nftables) ? doc.nftables : [];
  const entries: FirewallEntry[] = [];
  const protectedPorts: PortSpec[] = [];
  for (const item of items) {
    if (!isObject(item) || !isObject(item.set)) continue;
    const set = item.set;
    const name = String(set.name);
    const elems = Array.isArray(set.elem) ? set.elem : [];
    for (const raw of elems) {
      const wrapped = isObject(raw) && isObject(raw.elem) ? raw.elem : undefined;
      const value = wrapped ? wrapped.val : raw;
      const remaining =
        wrapped && typeof wrapped.expires === 'number' ? wrapped.expires : undefined;
      const parts = valueParts(value);
      if (name === 'protected') {
        const [proto, port] = parts;
        if ((proto === 'tcp' || proto === 'udp') && typeof port === 'number')
          protectedPorts.push({ protocol: proto, port });
        continue;
      }
      const address = addressText(parts[0]);
      if (address === undefined) continue;
      if (/^granted[46]$/.test(name)) {
        const [, proto, port] = parts;
        const entry: FirewallEntry = { kind: 'grant', address };
        if ((proto === 'tcp' || proto === 'udp') && typeof port === 'number')
          entry.port = { protocol: proto, port };
        if (remaining !== undefined) entry.remaining = remaining;
        entries.push(entry);
      } else if (/^banned[46]$/.test(name)) {
        const entry: FirewallEntry = { kind: 'ban', address };
        if (remaining !== undefined) entry.remaining = remaining;
        entries.push(entry);
      } else if (/^trusted[46]$/.test(name)) {
        entries.push({ kind: 'trusted', address });
      }
    }
  }
  return { entries, protectedPorts };
}
