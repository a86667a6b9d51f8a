/**
 * The daemon's side of a cluster: connect at start (a store that cannot be reached, refuses
 * the password or is too old stops the start with ExitCode.cluster), log through the
 * daemon's Logger, and put the node between the daemon and its firewall.
 */
import type { KnockdConfig } from '@knock/shared';
import type { Firewall } from '../firewall/types.js';
import type { Logger } from '../daemon/log.js';
import { openCluster } from './connect.js';
import type { ClusterNode } from './node.js';

export async function openClusterForDaemon(
  config: KnockdConfig,
  log: Logger,
  version: string,
): Promise<ClusterNode | undefined> {
  const node = await openCluster(config.options, {
    log: { info: (msg) => log.info('cluster', msg), error: (msg) => log.error('cluster', msg) },
    version,
    background: true,
  });
  if (node)
    log.info(
      'cluster',
      `cluster: node ${node.name} of ${node.store.keys.prefix.slice(6, -1)} on ${node.store.url} (${node.store.version}); Cluster_Fail = ${node.failMode}`,
    );
  return node;
}

/** The firewall the daemon uses: this node's, shared with the cluster when there is one. */
export function attachCluster(local: Firewall, cluster: ClusterNode | undefined): Firewall {
  return cluster ? cluster.attach(local) : local;
}
