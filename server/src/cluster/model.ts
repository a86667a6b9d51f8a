/**
 * What the nodes of a cluster share, and how it is written in Redis (pure).
 *
 * Keys, all under the prefix `knock:<Cluster_Name>:`:
 *
 *   grant:<addr>|<proto>|<port>   JSON {address, protocol, port, node, door, at}; Redis TTL = time left
 *   ban:<addr>                    JSON {address, node, door, at}; TTL = time left (none: until flushed)
 *   trust:<cidr>                  JSON {address, node, at}
 *   gone:grant:<id>, gone:ban:<id>  tombstone of a revoked grant or ban: the revocation time; it lives
 *                                 as long as the revoked entry could have, so a node that was away
 *                                 learns of the revocation when it comes back
 *   grants, bans, trusts, gones   sets indexing the keys above (stale members are cleaned on read)
 *   used:<scope>:<sha256(id)>     single-use state (one-time sequences, …): JSON {node, id, at}
 *   node:<name>, nodes            heartbeats (TTL 3 × the interval) and their index
 *   events                        the pub/sub channel every change is published on
 *
 * Times (`at`) are the writing node's wall clock in ms: they only order a revocation against
 * a grant made during a partition. Time left is Redis's own TTL, so expiry does not depend on
 * the nodes' clocks.
 */
import { parseHost, parseNetwork } from '../firewall/address.js';
import type { PortSpec } from '../firewall/types.js';

export const DEFAULT_KEY_SPACE = 'knock';

export type EntryKind = 'grant' | 'ban';

export interface ClusterGrant {
  address: string;
  protocol: 'tcp' | 'udp';
  port: number;
  node: string;
  door?: string;
  at: number;
}

export interface ClusterBan {
  address: string;
  node: string;
  door?: string;
  at: number;
}

export interface ClusterTrust {
  address: string;
  node: string;
  at: number;
}

/** `addr|tcp|22`: one grant per address and port, as in the kernel set. */
export const grantId = (address: string, port: PortSpec): string =>
  `${address}|${port.protocol}|${port.port}`;

export function parseGrantId(id: string): { address: string; port: PortSpec } | undefined {
  const m = /^([^|]+)\|(tcp|udp)\|(\d{1,5})$/.exec(id);
  if (!m) return undefined;
  const host = parseHost(m[1]!);
  const port = Number(m[3]);
  if (!host || host.address !== m[1] || port < 1 || port > 65535) return undefined;
  return { address: host.address, port: { protocol: m[2] as 'tcp' | 'udp', port } };
}

export class Keys {
  readonly prefix: string;
  constructor(clusterName: string) {
    this.prefix = `knock:${clusterName}:`;
  }
  get channel(): string {
    return `${this.prefix}events`;
  }
  entry(kind: EntryKind, id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }
  node(name: string): string {
    return `${this.prefix}node:${name}`;
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: string): Json | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown, max = 200): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;
const time = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Who made a grant or ban (node, time, door), checked; a reason when it is junk. */
function madeBy(j: Json): Pick<ClusterGrant, 'node' | 'at' | 'door'> | string {
  if (!str(j.node, 64)) return 'no node';
  if (!time(j.at)) return 'no time';
  if (j.door !== undefined && !str(j.door)) return 'a bad door name';
  return { node: j.node, at: j.at, ...(j.door !== undefined ? { door: j.door as string } : {}) };
}

/** A grant read from Redis, checked field by field; a reason when it is junk. */
export function decodeGrant(id: string, text: string): ClusterGrant | string {
  const parsed = parseGrantId(id);
  if (!parsed) return 'the key does not name an address, protocol and port';
  const j = parseJson(text);
  if (!j) return 'the value is not a JSON object';
  if (
    j.address !== parsed.address ||
    j.protocol !== parsed.port.protocol ||
    j.port !== parsed.port.port
  )
    return 'the value does not match the key';
  const by = madeBy(j);
  if (typeof by === 'string') return by;
  return {
    address: parsed.address,
    protocol: parsed.port.protocol,
    port: parsed.port.port,
    ...by,
  };
}

export function decodeBan(id: string, text: string): ClusterBan | string {
  const host = parseHost(id);
  if (!host || host.address !== id) return 'the key does not name an address';
  const j = parseJson(text);
  if (!j) return 'the value is not a JSON object';
  if (j.address !== id) return 'the value does not match the key';
  const by = madeBy(j);
  return typeof by === 'string' ? by : { address: id, ...by };
}

export function decodeTrust(id: string, text: string): ClusterTrust | string {
  const network = parseNetwork(id);
  if (!network || network.cidr !== id) return 'the key does not name an address or network';
  const j = parseJson(text);
  if (!j) return 'the value is not a JSON object';
  if (!str(j.node, 64) || !time(j.at)) return 'no node or time';
  return { address: id, node: j.node, at: j.at };
}

// ---- events on the pub/sub channel -------------------------------------------------------

/** Every message carries `src`, the publishing process (a node skips its own). */
export type ClusterEvent =
  /** `t`: the store's clock (ms) when it wrote the entry, which `ttl` counts from. */
  | { op: 'grant'; src: string; id: string; ttl: number; t?: number; entry: ClusterGrant }
  | { op: 'ban'; src: string; id: string; ttl: number; t?: number; entry: ClusterBan }
  /** A ban lifted, or every grant of `address` revoked. */
  | { op: 'revoke'; src: string; kind: EntryKind; address: string }
  | { op: 'flush'; src: string; kind: EntryKind }
  | { op: 'trust'; src: string; entry: ClusterTrust }
  | { op: 'untrust'; src: string; address: string }
  | { op: 'used'; src: string; scope: string; id: string; node: string }
  | { op: 'ping'; src: string; t: number };

const ttlOk = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Parses one message; a reason when it is junk (logged, never thrown). */
export function decodeEvent(text: string): ClusterEvent | string {
  const j = parseJson(text);
  if (!j) return 'not a JSON object';
  if (!str(j.src, 100)) return 'no src';
  const src = j.src;
  switch (j.op) {
    case 'grant': {
      if (!str(j.id) || !ttlOk(j.ttl)) return 'a grant without id or ttl';
      const entry = decodeGrant(j.id, JSON.stringify(j.entry));
      return typeof entry === 'string'
        ? `grant ${j.id}: ${entry}`
        : { op: 'grant', src, id: j.id, ttl: j.ttl, ...(time(j.t) ? { t: j.t } : {}), entry };
    }
    case 'ban': {
      if (!str(j.id) || !ttlOk(j.ttl)) return 'a ban without id or ttl';
      const entry = decodeBan(j.id, JSON.stringify(j.entry));
      return typeof entry === 'string'
        ? `ban ${j.id}: ${entry}`
        : { op: 'ban', src, id: j.id, ttl: j.ttl, ...(time(j.t) ? { t: j.t } : {}), entry };
    }
    case 'revoke':
      if ((j.kind !== 'grant' && j.kind !== 'ban') || !str(j.address)) return 'a bad revoke';
      if (parseHost(j.address)?.address !== j.address) return `revoke ${j.address}: not an address`;
      return { op: 'revoke', src, kind: j.kind, address: j.address };
    case 'flush':
      if (j.kind !== 'grant' && j.kind !== 'ban') return 'a bad flush';
      return { op: 'flush', src, kind: j.kind };
    case 'trust': {
      if (!isObject(j.entry) || !str(j.entry.address)) return 'a bad trust';
      const entry = decodeTrust(j.entry.address, JSON.stringify(j.entry));
      return typeof entry === 'string' ? `trust: ${entry}` : { op: 'trust', src, entry };
    }
    case 'untrust':
      if (!str(j.address) || parseNetwork(j.address)?.cidr !== j.address) return 'a bad untrust';
      return { op: 'untrust', src, address: j.address };
    case 'used':
      if (!str(j.scope) || !str(j.id, 1000) || !str(j.node, 64)) return 'a bad used';
      return { op: 'used', src, scope: j.scope, id: j.id, node: j.node };
    case 'ping':
      if (!time(j.t)) return 'a bad ping';
      return { op: 'ping', src, t: j.t };
    default:
      return `unknown op ${JSON.stringify(j.op)}`;
  }
}

// ---- heartbeats ---------------------------------------------------------------------------

export interface NodeHeartbeat {
  node: string;
  pid: number;
  version: string;
  /** When the node's daemon started (its clock, ms). */
  started: number;
  /** When this heartbeat was written (its clock, ms). */
  at: number;
  /** Its last fan-out round trip (publish → its own subscriber), ms. */
  lagMs?: number;
  /** Grants and bans it holds from the cluster or made itself. */
  entries?: number;
  /** The writing process (two daemons that share a node name differ here). */
  src?: string;
  /** Its daemon stopped cleanly (the last heartbeat it wrote). */
  stopped?: boolean;
}

export function decodeHeartbeat(text: string): NodeHeartbeat | undefined {
  const j = parseJson(text);
  if (!j || !str(j.node, 64) || !time(j.pid) || !time(j.started) || !time(j.at)) return undefined;
  return {
    node: j.node,
    pid: j.pid,
    version: typeof j.version === 'string' ? j.version : '?',
    started: j.started,
    at: j.at,
    ...(time(j.lagMs) ? { lagMs: j.lagMs } : {}),
    ...(time(j.entries) ? { entries: j.entries } : {}),
    ...(str(j.src, 100) ? { src: j.src } : {}),
    ...(j.stopped === true ? { stopped: true } : {}),
  };
}
