// Several knock-server nodes as one system, through Redis (issue 13).
export { ClusterNode, type ClusterSnapshot, type NodeStatus } from './node.js';
export { ClusterFirewall } from './cluster-firewall.js';
export { ClusterStore, StoreUnavailable, MIN_REDIS_VERSION, KNOCK_DEADLINE_MS } from './store.js';
export {
  LocalSingleUseStore,
  describeRefusal,
  sharedUsedStore,
  type FeatureUsedStore,
  type SingleUseClaim,
  type SingleUseStore,
  type SingleUseVerdict,
} from './single-use.js';
export {
  openCluster,
  checkClusterFiles,
  defaultNodeName,
  passwordFileProblem,
  readPasswordFile,
} from './connect.js';
export { clusterCommand, clusterFirewallForCli, formatStatus } from './cli.js';
