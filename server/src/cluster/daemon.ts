/**
 * The daemon's side of a cluster: connect at start (a store that cannot be reached, refuses
 * the password or is too old stops the start with ExitCode.cluster), log through the
 * daemon's Logger, and put the node between the daemon and its firewall.
 */
import type { KnockdConfig } from '@knock/shared';
import type { Firewall } from '../firewall/types.js';
import type { Logger } from '../daemon/log.js';
import { nftBanText, nftGrantText } from '../firewall/nft-text.js';
import { openCluster } from './connect.js';
import { NftSession } from './nft-session.js';
import type { ClusterNode, FastApply } from './node.js';

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
  if (!cluster) return local;
  return cluster.attach(local, local.kind === 'nftables' ? nftFastApply() : undefined);
}

/** The others' grants and bans through one long-lived `nft -i` (see nft-session.ts). */
export function nftFastApply(session = new NftSession()): FastApply {
  return {
    grant: (address, ports, seconds) => session.apply(nftGrantText(address, ports, seconds)),
    ban: (address, seconds) => session.apply(nftBanText(address, seconds)),
    close: () => session.close(),
  };
}
