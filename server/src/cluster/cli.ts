/**
 * `knock-server cluster status|untrust` and the cluster side of `knock-server fw`: with
 * `Cluster =` in the config, fw accept/drop/trust/flush/unban act on every node, and
 * fw list says which node made each grant.
 */
import { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, ExitCode, KnockError, type KnockdConfig } from '@knock/shared';
import { requireConfig } from '../cli/config-file.js';
import { leafOptions } from '../cli/leaf-options.js';
import { requireNetwork } from '../firewall/address.js';
import type { Firewall } from '../firewall/types.js';
import { openCluster } from './connect.js';
import type { ClusterNode, NodeStatus } from './node.js';

export interface ClusterCliDeps {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  version?: string;
}

const cliLog = (stderr: (t: string) => void) => ({
  info: (msg: string) => stderr(`${msg}\n`),
  error: (msg: string) => stderr(`${msg}\n`),
});

/**
 * For fwCommand's wrapFirewall: the cluster's firewall when the config names a cluster.
 * With the store unreachable, additions (accept, drop, trust) are made on this node with a
 * warning (its daemon re-publishes grants and bans once the store is back); removals are
 * refused, since this node's next reconciliation would bring them back.
 */
export function clusterFirewallForCli(deps: ClusterCliDeps = {}) {
  const stderr = deps.stderr ?? ((t: string) => void process.stderr.write(t));
  return async (local: Firewall, config: KnockdConfig | undefined): Promise<Firewall> => {
    if (config?.options.cluster === undefined) return local;
    let node: ClusterNode | undefined;
    try {
      node = await openCluster(config.options, {
        log: cliLog(stderr),
        version: deps.version ?? '',
        background: false,
        connectTimeoutMs: 2000,
      });
    } catch (error) {
      if (!(error instanceof KnockError) || error.code !== 'cluster.unreachable') throw error;
      return offline(local, error, stderr);
    }
    return node ? node.attach(local) : local;
  };
}

function offline(local: Firewall, error: KnockError, stderr: (t: string) => void): Firewall {
  const warn = () =>
    stderr(
      `knock-server: ${error.message}: this node only (its daemon re-publishes grants and bans when the store is back)\n`,
    );
  const refuse = (what: string): never => {
    throw new KnockError(
      'cluster.unreachable',
      `${error.message}: ${what} not done (on this node alone it would come back when the node reconnects)`,
      {
        exitCode: ExitCode.cluster,
        hint: 'run it again once the store is reachable (knock-server cluster status)',
      },
    );
  };
  return {
    kind: local.kind,
    setup: (spec) => local.setup(spec),
    grant: async (...args) => {
      warn();
      await local.grant(...args);
    },
    ban: async (...args) => {
      warn();
      await local.ban(...args);
    },
    trust: async (cidr) => {
      warn();
      await local.trust(cidr);
    },
    revoke: async (address) => refuse(`flush addr ${address}`),
    unban: async (address) => refuse(`unban ${address}`),
    flushGrants: async () => refuse('flush filter'),
    flushBans: async () => refuse('flush banned'),
    list: async () => {
      warn();
      return local.list();
    },
    status: () => local.status(),
    teardown: () => local.teardown(),
  };
}

/** The config through knock-server's one loader (no rotating secrets: cluster needs none). */
async function loadClusterConfig(path: string, stderr: (t: string) => void): Promise<KnockdConfig> {
  const config = await requireConfig(path, {
    secrets: false,
    stderr,
    scope: 'cluster',
    unreadableHint: 'point to your knockd.conf with -c FILE',
  });
  if (config.options.cluster === undefined)
    throw new KnockError('cluster.none', `${path} names no cluster (no Cluster = in [options])`, {
      exitCode: ExitCode.config,
      hint: 'add Cluster = redis://HOST:PORT/DB to [options] on every node',
    });
  return config;
}

const ms = (n: number) => (n < 10 ? `${n.toFixed(1)} ms` : `${Math.round(n)} ms`);
const secs = (n: number) => `${(n / 1000).toFixed(1)} s`;

/** The table `cluster status` prints (pure, tested). */
export function formatStatus(
  store: {
    url: string;
    version: string;
    reachable: boolean;
    rttMs: number | undefined;
    prefix: string;
  },
  nodes: readonly NodeStatus[],
  now: number,
): string {
  const lines = [
    `store:   ${store.url} (${store.version ? `Redis ${store.version}` : 'version unknown'}), ${store.reachable ? 'reachable' : 'UNREACHABLE'}${store.rttMs !== undefined ? `, round trip ${ms(store.rttMs)}` : ''}`,
    `keys:    ${store.prefix}*`,
  ];
  if (nodes.length === 0) {
    lines.push(
      'nodes:   none seen yet (a node writes a heartbeat every 2 s while its daemon runs)',
    );
    return lines.join('\n') + '\n';
  }
  lines.push('nodes:');
  const rows = [
    ['node', 'state', 'last heartbeat', 'expires', 'fan-out lag', 'entries', 'pid', 'version'],
    ...nodes.map((n) => {
      const hb = n.heartbeat;
      const alive = n.expiresInMs >= 0;
      return [
        n.name,
        n.junk ? `junk (${n.junk})` : alive ? 'alive' : hb?.stopped ? 'stopped' : 'LOST',
        hb ? `${secs(now - hb.at)} ago` : '-',
        alive ? `in ${secs(n.expiresInMs)}` : 'expired',
        hb?.lagMs !== undefined ? ms(hb.lagMs) : '-',
        hb?.entries !== undefined ? String(hb.entries) : '-',
        hb ? String(hb.pid) : '-',
        hb?.version ?? '-',
      ];
    }),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    lines.push(
      '  ' +
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
    );
  return lines.join('\n') + '\n';
}

export function clusterCommand(deps: ClusterCliDeps = {}): Command {
  const stdout = deps.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = deps.stderr ?? ((t: string) => void process.stderr.write(t));
  const open = async (path: string): Promise<ClusterNode> => {
    const config = await loadClusterConfig(path, stderr);
    const node = await openCluster(config.options, {
      log: cliLog(stderr),
      version: deps.version ?? '',
      background: false,
    });
    return node!;
  };

  const cluster = new Command('cluster')
    .description('the nodes sharing grants, bans and single-use state through Redis (Cluster =)')
    .addHelpText(
      'after',
      `
Examples:
  knock-server cluster status                 the store, and every node seen with its heartbeat
  knock-server cluster status --json
  knock-server cluster untrust 198.51.100.0/24  take back a \`fw trust\` on every node

Grants, bans and trust are shared by knock-server fw accept|drop|trust|unban|flush on any node.`,
    );

  cluster
    .command('status')
    .description('is the store reachable, how fast; every node seen, its heartbeat and fan-out lag')
    .option('-c, --config <file>', 'config naming the cluster', DEFAULT_CONFIG_FILE)
    .option('--json', 'one JSON object')
    .action(async (_o: unknown, leaf: Command) => {
      // -c wherever it was written (`knock-server -c F cluster status`), never the root's default.
      const o = leafOptions<{ config: string; json?: boolean }>(leaf);
      const node = await open(o.config);
      try {
        const rttMs = await node.store.probe(2000);
        const nodes = await node.nodes().catch((error: unknown) => {
          throw new KnockError(
            'cluster.unreachable',
            `the cluster store at ${node.store.url} does not answer: ${(error as Error).message}`,
            { exitCode: ExitCode.cluster, hint: 'is it overloaded, or paused? try again' },
          );
        });
        const store = {
          url: node.store.url,
          version: node.store.version,
          reachable: rttMs !== undefined,
          rttMs,
          prefix: node.store.keys.prefix,
        };
        stdout(
          o.json ? JSON.stringify({ store, nodes }) + '\n' : formatStatus(store, nodes, Date.now()),
        );
      } finally {
        node.close();
      }
    });

  cluster
    .command('untrust')
    .description('remove a network `fw trust` added, on every node')
    .argument('<addr>', 'address or CIDR, as given to fw trust')
    .option('-c, --config <file>', 'config naming the cluster', DEFAULT_CONFIG_FILE)
    .action(async (addr: string, _o: unknown, leaf: Command) => {
      const o = leafOptions<{ config: string }>(leaf);
      const cidr = requireNetwork(addr).cidr;
      const node = await open(o.config);
      try {
        await node.publishUntrust(cidr);
        stdout(`${cidr} is no longer trusted (each node re-applies its trusted list)\n`);
      } finally {
        node.close();
      }
    });

  return cluster;
}
