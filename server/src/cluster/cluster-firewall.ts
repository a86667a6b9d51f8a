import type {
  EntryOrigin,
  Firewall,
  FirewallEntry,
  FirewallSpec,
  FirewallStatus,
  PortSpec,
} from '../firewall/types.js';
import { requireHost, requireNetwork } from '../firewall/address.js';
import type { ClusterNode } from './node.js';
import { StoreUnavailable } from './store.js';

/**
 * The Firewall the daemon and `fw` use on a cluster node: each change is made on this
 * node's kernel sets first, then published (the daemon: in the background).
 */
export class ClusterFirewall implements Firewall {
  readonly kind;
  readonly #local: Firewall;
  readonly #node: ClusterNode;
  #setUp = false;

  constructor(local: Firewall, node: ClusterNode) {
    this.#local = local;
    this.#node = node;
    this.kind = local.kind;
  }

  async setup(spec: FirewallSpec): Promise<void> {
    await this.#node.setup(spec);
    if (!this.#setUp && this.#node.background) {
      this.#setUp = true;
      // The first setup of a daemon's life: catch up with the cluster (not awaited: a slow
      // store must not delay the start; a missing store is retried at reconnection).
      void this.#node.reconcile();
    }
  }

  async grant(
    address: string,
    ports: PortSpec[],
    secs: number,
    origin?: EntryOrigin,
  ): Promise<void> {
    // The daemon publishes in the background, at once: the other nodes apply it while this
    // one runs nft (fan-out does not wait for the local change).
    const address_ = requireHost(address).address;
    if (this.#node.background) {
      void this.#node.publishGrant(address_, ports, secs, origin);
      // One event-loop turn, so the client writes the command to Redis before spawning nft
      // (a spawn blocks the loop for milliseconds on a busy machine).
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.#local.grant(address, ports, secs, origin);
    if (!this.#node.background) await this.#node.publishGrant(address_, ports, secs, origin);
  }

  async ban(address: string, secs: number, origin?: EntryOrigin): Promise<void> {
    const address_ = requireHost(address).address;
    if (this.#node.background) {
      void this.#node.publishBan(address_, secs, origin);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.#local.ban(address, secs, origin);
    if (!this.#node.background) await this.#node.publishBan(address_, secs, origin);
  }

  async trust(addressOrCidr: string): Promise<void> {
    await this.#local.trust(addressOrCidr);
    await this.#node.publishTrust(requireNetwork(addressOrCidr).cidr);
  }

  async revoke(address: string): Promise<void> {
    await this.#removal(
      () => this.#local.revoke(address),
      () => this.#node.publishRevoke('grant', requireHost(address).address),
    );
  }

  async unban(address: string): Promise<void> {
    await this.#removal(
      () => this.#local.unban(address),
      () => this.#node.publishRevoke('ban', requireHost(address).address),
    );
  }

  async flushGrants(): Promise<void> {
    await this.#removal(
      () => this.#local.flushGrants(),
      () => this.#node.publishFlush('grant'),
    );
  }

  async flushBans(): Promise<void> {
    await this.#removal(
      () => this.#local.flushBans(),
      () => this.#node.publishFlush('ban'),
    );
  }

  /**
   * A removal from the command line goes to the cluster first: if the store cannot take
   * it, nothing changes here either (a local-only removal would come back at this node's
   * next reconciliation). The daemon never removes.
   */
  async #removal(local: () => Promise<void>, cluster: () => Promise<void>): Promise<void> {
    if (this.#node.background) {
      await local();
      await cluster();
    } else {
      await cluster();
      await local();
    }
  }

  async list(): Promise<FirewallEntry[]> {
    const entries = await this.#local.list();
    try {
      return await this.#node.annotate(entries);
    } catch (error) {
      if (!(error instanceof StoreUnavailable)) throw error;
      this.#node.warn(
        `cluster: cannot read the cluster's entries (${error.message}): this node's only`,
      );
      return entries;
    }
  }

  async status(): Promise<FirewallStatus> {
    const status = await this.#local.status();
    return {
      ...status,
      detail: `${status.detail}; cluster ${this.#node.store.url} as node ${this.#node.name} (${this.#node.store.reachable ? 'reachable' : 'unreachable'})`,
    };
  }

  teardown(): Promise<void> {
    return this.#local.teardown();
  }
}
