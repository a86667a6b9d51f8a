/**
 * The kernel filter (pcap syntax) built from the doors, so only packets that can be a
 * knock ever reach userspace: like knockd (reference §3.2), only door ports, only to a
 * local address or the door's Target, and for IPv4 TCP only the flags the door wants.
 *
 * Two deliberate differences from knockd:
 * - IPv6 TCP flags are not tested in BPF. knockd's `ip6[13+40]` assumes no extension
 *   headers; libpcap's `tcp[...]` only works for IPv4. The detector checks them.
 * - libpcap's `tcp dst port` for IPv6 only looks at the first next-header, so packets
 *   whose first next-header is an extension header (hop-by-hop, routing, fragment,
 *   AH, destination options) to the watched addresses are let through whole, and the
 *   decoder walks the chain (decode.ts). Such packets are rare on real networks.
 */
import { isIP } from 'node:net';
import {
  ExitCode,
  KnockError,
  TCP_FLAGS,
  type Knock,
  type TcpFlag,
  type TcpFlagRule,
} from '@knock/shared';

export interface FilterDoor {
  /** Every port the door can be knocked on now (the current one-time sequence included). */
  knocks: readonly Knock[];
  tcpFlags: TcpFlagRule;
  /** `Target`: an IP literal watched instead of the local addresses. */
  target?: string;
  /** The door's name, for messages. */
  name?: string;
  /** Only knocks over this family (a rotating door's derived sequence); absent: both. */
  family?: 4 | 6;
}

export interface LocalAddresses {
  v4: readonly string[];
  v6: readonly string[];
}

/**
 * A filter that compiles and matches nothing (no frame is 1 byte long). Used when no
 * door can be knocked (every one-time sequence used): an empty filter would capture all.
 */
export const NO_PACKETS_FILTER = 'less 1';

/** pcap's names for the TCP flag bits (`tcp-push`, not `tcp-psh`). */
const PCAP_FLAG: Readonly<Record<TcpFlag, string>> = {
  fin: 'tcp-fin',
  syn: 'tcp-syn',
  rst: 'tcp-rst',
  psh: 'tcp-push',
  ack: 'tcp-ack',
  urg: 'tcp-urg',
};

/** IPv6 next-header values of the extension headers decode.ts walks. */
const IPV6_EXTENSIONS = [0, 43, 44, 51, 60];

interface Group {
  hosts: readonly string[];
  /** flags clause ('' = any flags) → TCP ports. */
  tcp: Map<string, Set<number>>;
  udp: Set<number>;
}

/**
 * Builds the BPF text for `doors` watching `local` addresses. Throws a KnockError
 * (`capture.noLocalAddress`) when a door has nothing to watch: no Target and no local
 * address of a family it could be knocked over.
 */
export function buildFilter(
  doors: readonly FilterDoor[],
  local: LocalAddresses,
  options: { ipv4Only?: boolean } = {},
): string {
  const families = options.ipv4Only ? ([4] as const) : ([4, 6] as const);
  // Doors that watch the same addresses share one clause: keeps the BPF program small.
  const groups: Record<4 | 6, Map<string, Group>> = { 4: new Map(), 6: new Map() };
  for (const door of doors) {
    if (door.knocks.length === 0) continue;
    const label = door.name === undefined ? 'a door' : `door "${door.name}"`;
    let watched = 0;
    for (const family of families) {
      if (door.family !== undefined && door.family !== family) continue;
      let hosts: readonly string[];
      if (door.target !== undefined) {
        const targetFamily = isIP(door.target);
        if (targetFamily === 0)
          throw new KnockError(
            'capture.targetNotAddress',
            `${label}: Target "${door.target}" is not an IP address`,
            {
              exitCode: ExitCode.config,
              hint: 'write the address itself (Target = 192.0.2.2 or Target = 2001:db8::2)',
            },
          );
        hosts = targetFamily === family ? [door.target] : [];
      } else hosts = family === 4 ? local.v4 : local.v6;
      if (hosts.length === 0) continue;
      watched++;
      const key = [...new Set(hosts)].sort().join(' ');
      let group = groups[family].get(key);
      if (!group) {
        group = { hosts: key.split(' '), tcp: new Map(), udp: new Set() };
        groups[family].set(key, group);
      }
      // IPv6: flags are the detector's job (see the header comment).
      const flags = family === 4 ? flagClause(door.tcpFlags) : '';
      for (const knock of door.knocks) {
        if (knock.protocol === 'udp') group.udp.add(knock.port);
        else {
          let ports = group.tcp.get(flags);
          if (!ports) group.tcp.set(flags, (ports = new Set()));
          ports.add(knock.port);
        }
      }
    }
    // A derived sequence of one family may have no address of it: the other family's works.
    if (watched === 0 && door.family === undefined)
      throw noAddress(label, door, options.ipv4Only === true);
  }
  const clauses: string[] = [];
  for (const family of families)
    for (const group of groups[family].values()) clauses.push(groupClause(group, family));
  return clauses.length === 0 ? NO_PACKETS_FILTER : clauses.join(' or ');
}

function groupClause(group: Group, family: 4 | 6): string {
  const hosts = group.hosts.map((h) => `dst host ${h}`).join(' or ');
  const parts: string[] = [];
  for (const [flags, ports] of group.tcp) {
    const portList = portsClause('tcp', ports);
    parts.push(flags === '' ? portList : `(${portList} and ${flags})`);
  }
  if (group.udp.size > 0) parts.push(portsClause('udp', group.udp));
  if (family === 6) parts.push(...IPV6_EXTENSIONS.map((nh) => `ip6[6] = ${nh}`));
  return `((${hosts}) and (${parts.join(' or ')}))`;
}

function portsClause(protocol: 'tcp' | 'udp', ports: ReadonlySet<number>): string {
  const sorted = [...ports].sort((a, b) => a - b);
  return `(${sorted.map((p) => `${protocol} dst port ${p}`).join(' or ')})`;
}

/** knockd's clause order (fin syn rst psh ack urg); '' when the door does not care. */
function flagClause(rule: TcpFlagRule): string {
  const tests: string[] = [];
  for (const flag of TCP_FLAGS) {
    const want = rule[flag];
    if (want === undefined) continue;
    tests.push(`tcp[tcpflags] & ${PCAP_FLAG[flag]} ${want ? '!=' : '=='} 0`);
  }
  return tests.join(' and ');
}

function noAddress(label: string, door: FilterDoor, ipv4Only: boolean): KnockError {
  if (door.target !== undefined)
    return new KnockError(
      'capture.targetIpv6Only',
      `${label}: Target ${door.target} is an IPv6 address, but -4/--only-ip-v4 ignores IPv6`,
      { exitCode: ExitCode.config, hint: 'drop -4, or give the door an IPv4 Target' },
    );
  return new KnockError(
    'capture.noLocalAddress',
    `${label}: no local ${ipv4Only ? 'IPv4 ' : ''}address to watch for knocks: the capture interface has none`,
    {
      exitCode: ExitCode.capture,
      hint: 'give the interface an address, capture on another one with -i, or set Target = ADDRESS in the door',
    },
  );
}
