/**
 * A lab for cluster tests: one L2 segment (a bridge in a hub namespace) joining a client
 * namespace and N knock-server nodes, each in its own namespace, and a private redis-server
 * in the hub listening on TCP 192.0.2.254:6379 (and on a unix socket the test uses itself).
 * Documentation addresses only, no route out.
 *
 *   client 192.0.2.1 (+ .20 …) ─┐
 *   node a 192.0.2.11          ─┼─ br0 192.0.2.254 (hub: redis-server)
 *   node b 192.0.2.12          ─┤
 *   node c 192.0.2.13          ─┘
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REDIS_SERVER, RedisServer } from '../../server/test/cluster/redis-server.js';
import { killAll, Netns, waitFor } from '../helpers/netns.js';
import { RunningDaemon, SERVER_BIN } from '../server/daemon-helpers.js';

const run = promisify(execFile);
export { REDIS_SERVER };
export const HUB4 = '192.0.2.254';
export const REDIS_URL = `redis://${HUB4}:6379/0`;

export interface ClusterNodeNs {
  name: string;
  ns: Netns;
  ifname: string;
  address: string;
}

export interface ClusterLab {
  hub: Netns;
  client: Netns;
  clientIf: string;
  nodes: ClusterNodeNs[];
  /** Extra client source addresses: 192.0.2.20 … */
  sources: string[];
  destroy(): Promise<void>;
}

let counter = 0;

export async function createClusterLab(names: string[], sources = 20): Promise<ClusterLab> {
  counter += 1;
  const id = `${process.pid.toString(36)}${counter.toString(36)}`;
  const hubName = `kh${id}`;
  const all: string[] = [hubName];
  const lab: ClusterLab = {
    hub: new Netns(hubName),
    client: new Netns(`kc${id}`),
    clientIf: `c${id}`,
    nodes: names.map((name, i) => ({
      name,
      ns: new Netns(`kn${id}${i}`),
      ifname: `n${id}${i}`,
      address: `192.0.2.${11 + i}`,
    })),
    sources: Array.from({ length: sources }, (_, i) => `192.0.2.${20 + i}`),
    destroy: async () => {
      await Promise.all(all.map(killAll));
      await Promise.all(all.map((ns) => run('ip', ['netns', 'del', ns]).catch(() => undefined)));
    },
  };
  try {
    await run('ip', ['netns', 'add', hubName]);
    await lab.hub.sh(
      `ip link set lo up && ip link add br0 type bridge && ip addr add ${HUB4}/24 dev br0 && ip link set br0 up`,
    );
    const members: [Netns, string, string[]][] = [
      [lab.client, lab.clientIf, ['192.0.2.1', ...lab.sources]],
      ...lab.nodes.map((n): [Netns, string, string[]] => [n.ns, n.ifname, [n.address]]),
    ];
    for (const [i, [ns, ifname, addresses]] of members.entries()) {
      all.push(ns.name);
      await run('ip', ['netns', 'add', ns.name]);
      const peer = `h${id}${i}`;
      await run('ip', [
        'link',
        'add',
        ifname,
        'netns',
        ns.name,
        'type',
        'veth',
        'peer',
        'name',
        peer,
        'netns',
        hubName,
      ]);
      await lab.hub.sh(`ip link set ${peer} master br0 && ip link set ${peer} up`);
      await ns.sh(
        [
          'ip link set lo up',
          ...addresses.map((a) => `ip addr add ${a}/24 dev ${ifname}`),
          `ip link set ${ifname} up`,
        ].join(' && '),
      );
    }
    for (const node of lab.nodes) {
      const ok = await waitFor(
        async () =>
          (await node.ns.exec(['ping', '-c1', '-W1', HUB4], { timeoutMs: 3000 })).code === 0,
        10_000,
        100,
      );
      if (!ok) throw new Error(`node ${node.name} cannot reach the hub`);
    }
    return lab;
  } catch (error) {
    await lab.destroy();
    throw error;
  }
}

/** A private redis-server in the hub namespace (TCP for the nodes, a unix socket for the test). */
export class LabRedis extends RedisServer {
  constructor(readonly hub: Netns) {
    super({ tcp: { host: HUB4, port: 6379 }, wrap: ['ip', 'netns', 'exec', hub.name] });
  }

  /** redis-cli over the unix socket (from the host: sockets cross namespaces). */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-s', this.socket, ...args]);
    return stdout.trim();
  }
}

/** The built knock-server in a node's namespace. */
export function startNode(
  node: ClusterNodeNs,
  config: string,
  extra: string[] = [],
): RunningDaemon {
  return new RunningDaemon(
    node.ns.spawn([process.execPath, SERVER_BIN, '-i', node.ifname, '-c', config, '-v', ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** knock-server with other arguments (fw, cluster, check) in a node's namespace. */
export function knockServer(node: ClusterNodeNs, args: string[]) {
  return node.ns.exec([process.execPath, SERVER_BIN, ...args], { timeoutMs: 20_000 });
}

/** Whether the node's kernel set holds a grant for `address` (nft, no daemon involved). */
export async function granted(node: ClusterNodeNs, address: string): Promise<boolean> {
  const r = await node.ns.exec(['nft', 'list', 'set', 'inet', 'knock', 'granted4']);
  return r.code === 0 && new RegExp(`\\b${address.replace(/\./g, '\\.')} \\. tcp`).test(r.stdout);
}

/** Seconds left of the node's grant for `address` (nft's `expires`), or undefined. */
export async function grantExpires(
  node: ClusterNodeNs,
  address: string,
): Promise<number | undefined> {
  const r = await node.ns.exec(['nft', '-j', 'list', 'set', 'inet', 'knock', 'granted4']);
  if (r.code !== 0) return undefined;
  const doc = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
  for (const item of doc.nftables) {
    for (const raw of item.set?.elem ?? []) {
      const elem = (raw as { elem?: { val?: { concat?: unknown[] }; expires?: number } }).elem;
      if (elem?.val?.concat?.[0] === address) return elem.expires;
    }
  }
  return undefined;
}

export async function banned(node: ClusterNodeNs, address: string): Promise<boolean> {
  const r = await node.ns.exec(['nft', 'list', 'set', 'inet', 'knock', 'banned4']);
  return r.code === 0 && new RegExp(`\\b${address.replace(/\./g, '\\.')}\\b`).test(r.stdout);
}
