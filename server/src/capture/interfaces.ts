/**
 * Which interface to watch and which addresses are ours: the default-route interface
 * (instead of knockd's hard-coded eth0), the local addresses the filter matches, and a
 * poller that notices when they change (DHCP, SLAAC), which knockd never rereads.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { LocalAddresses } from './filter.js';

type ReadText = (path: string) => string;
/** What localAddresses needs of an interface address (os.networkInterfaces() entries fit). */
type AddressInfo = Pick<NetworkInterfaceInfo, 'address' | 'family'>;
type InterfaceTable = () => NodeJS.Dict<AddressInfo[]>;

interface SystemTableDeps {
  list: () => NodeJS.Dict<AddressInfo[]>;
  names: () => string[];
  ipAddrJson: () => string;
}

const systemDeps: SystemTableDeps = {
  list: networkInterfaces,
  names: () => readdirSync('/sys/class/net'),
  ipAddrJson: () => execFileSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8', timeout: 5000 }),
};

/**
 * Every interface's addresses. os.networkInterfaces() (libuv) leaves out interfaces
 * that are not IFF_RUNNING, such as a link whose carrier the kernel has not reported
 * yet (it can lag the first packets by up to a second) or a cable that is unplugged,
 * while knockd's getifaddrs sees them. Those few are filled in from `ip -j addr`, run
 * only when one is missing.
 */
export function systemInterfaceTable(
  deps: SystemTableDeps = systemDeps,
): NodeJS.Dict<AddressInfo[]> {
  const table: NodeJS.Dict<AddressInfo[]> = { ...deps.list() };
  let names: string[];
  try {
    names = deps.names();
  } catch {
    return table; // no sysfs (not Linux): libuv's view is all there is
  }
  if (names.every((name) => name in table)) return table;
  try {
    const links = JSON.parse(deps.ipAddrJson()) as {
      ifname?: string;
      addr_info?: { family?: string; local?: string }[];
    }[];
    for (const link of links) {
      if (!link.ifname || link.ifname in table) continue;
      const infos: AddressInfo[] = [];
      for (const a of link.addr_info ?? []) {
        if (!a.local) continue;
        if (a.family === 'inet') infos.push({ address: a.local, family: 'IPv4' });
        else if (a.family === 'inet6') infos.push({ address: a.local, family: 'IPv6' });
      }
      if (infos.length > 0) table[link.ifname] = infos;
    }
  } catch {
    // no iproute2, or unexpected output: keep libuv's view
  }
  return table;
}

const readText: ReadText = (path) => readFileSync(path, 'utf8');

const RTF_UP = 0x0001;
const RTF_REJECT = 0x0200;

/**
 * The interface carrying the default route, from /proc/net/route (IPv4) and then
 * /proc/net/ipv6_route; the lowest metric wins. Undefined when there is none.
 */
export function defaultInterface(read: ReadText = readText): string | undefined {
  for (const [path, parse] of [
    ['/proc/net/route', parseRouteTable],
    ['/proc/net/ipv6_route', parseIpv6RouteTable],
  ] as const) {
    let text: string;
    try {
      text = read(path);
    } catch {
      continue;
    }
    const name = parse(text);
    if (name !== undefined) return name;
  }
  return undefined;
}

/** The default-route interface of a /proc/net/route text (hex, host byte order). */
export function parseRouteTable(text: string): string | undefined {
  let best: { name: string; metric: number } | undefined;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [name, destination, , flags, , , metric, mask] = f as [string, ...string[]];
    if (destination !== '00000000' || mask !== '00000000') continue;
    const bits = parseInt(flags!, 16);
    if (!(bits & RTF_UP) || bits & RTF_REJECT) continue;
    const m = parseInt(metric!, 10);
    if (!best || m < best.metric) best = { name, metric: m };
  }
  return best?.name;
}

/** The default-route interface of a /proc/net/ipv6_route text (`::/0`, not rejecting, not lo). */
export function parseIpv6RouteTable(text: string): string | undefined {
  let best: { name: string; metric: number } | undefined;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [destination, prefix, , , , metric, , , flags, name] = f as [string, ...string[]];
    if (!/^0+$/.test(destination) || parseInt(prefix!, 16) !== 0 || name === 'lo') continue;
    const bits = parseInt(flags!, 16);
    if (!(bits & RTF_UP) || bits & RTF_REJECT) continue;
    const m = parseInt(metric!, 16);
    if (!best || m < best.metric) best = { name: name!, metric: m };
  }
  return best?.name;
}

/** `-i eth0,eth1` / `Interface = eth0, eth1` → ['eth0', 'eth1'] (trimmed, no blanks, no repeats). */
export function parseInterfaces(value: string): string[] {
  return [
    ...new Set(
      value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
}

/**
 * The addresses of `interfaces` (of every interface when one is `any`), without
 * `%scope` suffixes, sorted and without repeats; IPv6 left empty with `ipv4Only`.
 */
export function localAddresses(
  interfaces: readonly string[],
  options: { ipv4Only?: boolean; table?: InterfaceTable } = {},
): { v4: string[]; v6: string[] } {
  const table = (options.table ?? systemInterfaceTable)();
  const all = interfaces.includes('any');
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const [name, infos] of Object.entries(table)) {
    if (!all && !interfaces.includes(name)) continue;
    for (const info of infos ?? []) {
      const address = info.address.replace(/%.*$/, '');
      if (info.family === 'IPv4') v4.add(address);
      else if (!options.ipv4Only) v6.add(address);
    }
  }
  return { v4: [...v4].sort(), v6: [...v6].sort() };
}

/**
 * Polls the addresses of `interfaces` every `intervalMs` and calls `onChange` with
 * the new set when it differs from the last one seen. Returns the function that stops
 * polling. The timer does not keep the process alive by itself.
 */
export function watchAddresses(
  interfaces: readonly string[],
  onChange: (addresses: LocalAddresses) => void,
  intervalMs = 2000,
  options: { table?: InterfaceTable } = {},
): () => void {
  const read = () => localAddresses(interfaces, options.table ? { table: options.table } : {});
  const key = (a: LocalAddresses) => `${a.v4.join(' ')}|${a.v6.join(' ')}`;
  let last = key(read());
  const timer = setInterval(() => {
    let now: LocalAddresses;
    try {
      now = read();
    } catch {
      return; // a transient getifaddrs failure: try again next time
    }
    const k = key(now);
    if (k === last) return;
    last = k;
    onChange(now);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
