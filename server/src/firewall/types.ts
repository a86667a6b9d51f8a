import type { FirewallKind, PortSpec } from '@knock/shared';

export type { FirewallKind, PortSpec };

/** What a program we ran printed, and how it ended. 127 means "not found". */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one program with an argv array (never a shell string) and optional stdin.
 * Never rejects for a non-zero exit: the backend decides what a failure means.
 */
export type Exec = (
  file: string,
  args: readonly string[],
  opts?: { input?: string },
) => Promise<ExecResult>;

export interface FirewallSpec {
  /** The ports only knockers (and trusted hosts) may open a NEW connection to. */
  protectedPorts: PortSpec[];
  /** Addresses and CIDRs, IPv4 and IPv6, always let in. Host names are resolved before (loadTrusted). */
  trusted: string[];
}

export interface FirewallEntry {
  kind: 'grant' | 'ban' | 'trusted';
  /** An address, or a CIDR for trusted networks. */
  address: string;
  /** The port a grant opens (grants only). */
  port?: PortSpec;
  /** Whole seconds left; undefined = until flushed. */
  remaining?: number;
  /** With a cluster: the node that made the grant or ban, and the door (when known). */
  node?: string;
  door?: string;
  /** With a cluster: false for an entry the cluster holds that this node's kernel lacks. */
  here?: boolean;
}

/** Who asked for a grant or ban (the cluster shares it; local backends ignore it). */
export interface EntryOrigin {
  door?: string;
}

export interface FirewallStatus {
  kind: FirewallKind;
  /** Our table / chains exist and are hooked into the input path. */
  active: boolean;
  protectedPorts: PortSpec[];
  grants: number;
  bans: number;
  trusted: number;
  /** Human-readable detail: the tool and version, or why it is inactive. */
  detail: string;
}

export interface Firewall {
  readonly kind: FirewallKind;
  /** Creates or updates our rules; keeps current grants and bans. Idempotent. */
  setup(spec: FirewallSpec): Promise<void>;
  /** Lets `address` open NEW connections to `ports` for `seconds` (0 = until flushed). Refreshes an existing grant. */
  grant(address: string, ports: PortSpec[], seconds: number, origin?: EntryOrigin): Promise<void>;
  /** Drops NEW connections from `address` to the protected ports for `seconds` (0 = until flushed). */
  ban(address: string, seconds: number, origin?: EntryOrigin): Promise<void>;
  /** Adds an address or CIDR to the trusted list (until the next setup). */
  trust(addressOrCidr: string): Promise<void>;
  /**
   * Removes the grants of `address` (the seed's `flush ADDR`): every one, or only those to
   * `ports` (a `Revoke` door takes back what the named doors opened, nothing else).
   */
  revoke(address: string, ports?: readonly PortSpec[]): Promise<void>;
  /** Lifts a ban on `address`. */
  unban(address: string): Promise<void>;
  flushGrants(): Promise<void>;
  flushBans(): Promise<void>;
  list(): Promise<FirewallEntry[]>;
  status(): Promise<FirewallStatus>;
  /** Removes everything we created: the host is as before. Idempotent. */
  teardown(): Promise<void>;
}

export interface FirewallDeps {
  exec?: Exec;
  /** When set, changes are printed through this instead of applied (reads still run). */
  dryRun?: (text: string) => void;
  /** iptables chain prefix: 'knock' (default) gives knock_filter…; 'ssh' gives the seed's ssh_filter…. */
  iptablesChainPrefix?: string;
  /** Wall clock in ms (iptables expiry stamps). */
  now?: () => number;
}
