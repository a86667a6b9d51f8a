// Choosing and building a backend.
import { access, constants } from 'node:fs/promises';
import { ExitCode, KnockError } from '@knock/shared';
import { SYSTEM_DIRS } from './exec.js';
import { requireHost, requireNetwork } from './address.js';
import { IptablesFirewall } from './iptables.js';
import { NftablesFirewall } from './nftables.js';
import type { Firewall, FirewallDeps, FirewallKind, FirewallStatus } from './types.js';

/** `Firewall = none`: knock-server runs commands only; built-in grants and bans are refused. */
class NoFirewall implements Firewall {
  readonly kind = 'none' as const;
  private refuse(what: string): never {
    throw new KnockError('firewall.none', `no firewall backend (Firewall = none): cannot ${what}`, {
      exitCode: ExitCode.firewall,
      hint: 'set Firewall = nftables or iptables in [options], or use --backend',
    });
  }
  async setup(): Promise<void> {}
  async teardown(): Promise<void> {}
  async grant(address: string): Promise<void> {
    this.refuse(`grant ${requireHost(address).address}`);
  }
  async ban(address: string): Promise<void> {
    this.refuse(`ban ${requireHost(address).address}`);
  }
  async unban(address: string): Promise<void> {
    this.refuse(`unban ${requireHost(address).address}`);
  }
  async trust(address: string): Promise<void> {
    this.refuse(`trust ${requireNetwork(address).cidr}`);
  }
  async revoke(address: string): Promise<void> {
    this.refuse(`revoke ${requireHost(address).address}`);
  }
  async flushGrants(): Promise<void> {}
  async flushBans(): Promise<void> {}
  async list() {
    return [];
  }
  async status(): Promise<FirewallStatus> {
    return {
      kind: 'none',
      active: false,
      protectedPorts: [],
      grants: 0,
      bans: 0,
      trusted: 0,
      detail: 'no built-in firewall (Firewall = none)',
    };
  }
}

export function createFirewall(kind: FirewallKind, deps: FirewallDeps = {}): Firewall {
  switch (kind) {
    case 'nftables':
      return new NftablesFirewall(deps);
    case 'iptables':
      return new IptablesFirewall(deps);
    case 'none':
      return new NoFirewall();
  }
}

/** Whether `program` is an executable on PATH or in the system directories. */
export async function onPath(program: string, pathEnv = process.env.PATH ?? ''): Promise<boolean> {
  const dirs = [...new Set([...pathEnv.split(':').filter(Boolean), ...SYSTEM_DIRS])];
  for (const dir of dirs) {
    try {
      await access(`${dir}/${program}`, constants.X_OK);
      return true;
    } catch {
      // next directory
    }
  }
  return false;
}

/** nftables where `nft` exists, else iptables, else none. */
export async function detectFirewall(
  deps: { has?: (program: string) => Promise<boolean> } = {},
): Promise<FirewallKind> {
  const has = deps.has ?? ((p: string) => onPath(p));
  if (await has('nft')) return 'nftables';
  if ((await has('iptables')) && (await has('ip6tables'))) return 'iptables';
  return 'none';
}
