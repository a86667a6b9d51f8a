// The built-in firewall: what the daemon and the CLI use.
export { createFirewall, detectFirewall } from './create.js';
export { parseTrustedFile, type TrustedEntry, type TrustedParse } from './trusted.js';
export {
  loadTrusted,
  resolveTrusted,
  type LoadedTrusted,
  type LoadTrustedDeps,
  type Lookup,
} from './load-trusted.js';
export {
  parseHost,
  parseNetwork,
  requireHost,
  requireNetwork,
  type Host,
  type Network,
} from './address.js';
export { parsePortSpec } from './validate.js';
export { systemExec } from './exec.js';
export { nftSetupText, uniquePorts, NFT_TABLE, LOG_PREFIX } from './nft-text.js';
export { describeSetup, formatEntries, formatStatus, showPort, showRemaining } from './format.js';
export type {
  Exec,
  ExecResult,
  EntryOrigin,
  Firewall,
  FirewallDeps,
  FirewallEntry,
  FirewallKind,
  FirewallSpec,
  FirewallStatus,
  PortSpec,
} from './types.js';
