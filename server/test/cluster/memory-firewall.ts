/** A Firewall kept in memory with expiring entries, as the kernel sets behave. */
import type {
  EntryOrigin,
  Firewall,
  FirewallEntry,
  FirewallSpec,
  FirewallStatus,
  PortSpec,
} from '../../src/firewall/types.js';

interface Held {
  kind: 'grant' | 'ban' | 'trusted';
  address: string;
  port?: PortSpec;
  /** ms epoch; undefined = forever */
  until?: number;
}

export class MemoryFirewall implements Firewall {
  readonly kind = 'nftables' as const;
  readonly #held = new Map<string, Held>();
  calls: string[] = [];
  setups = 0;
  trusted: string[] = [];

  #key = (h: Held) => `${h.kind}:${h.address}:${h.port ? `${h.port.protocol}/${h.port.port}` : ''}`;
  #live(): Held[] {
    const now = Date.now();
    for (const [k, h] of this.#held)
      if (h.until !== undefined && h.until <= now) this.#held.delete(k);
    return [...this.#held.values()];
  }

  setup(spec: FirewallSpec): Promise<void> {
    this.setups += 1;
    for (const [k, h] of this.#held) if (h.kind === 'trusted') this.#held.delete(k);
    for (const t of spec.trusted) this.#held.set(`trusted:${t}:`, { kind: 'trusted', address: t });
    return Promise.resolve();
  }
  grant(address: string, ports: PortSpec[], seconds: number, origin?: EntryOrigin): Promise<void> {
    this.calls.push(`grant ${address} ${seconds}${origin?.door ? ` ${origin.door}` : ''}`);
    for (const port of ports) {
      const h: Held = { kind: 'grant', address, port };
      if (seconds > 0) h.until = Date.now() + seconds * 1000;
      this.#held.set(this.#key(h), h);
    }
    return Promise.resolve();
  }
  ban(address: string, seconds: number): Promise<void> {
    this.calls.push(`ban ${address} ${seconds}`);
    const h: Held = { kind: 'ban', address };
    if (seconds > 0) h.until = Date.now() + seconds * 1000;
    this.#held.set(this.#key(h), h);
    return Promise.resolve();
  }
  trust(cidr: string): Promise<void> {
    this.#held.set(`trusted:${cidr}:`, { kind: 'trusted', address: cidr });
    return Promise.resolve();
  }
  revoke(address: string): Promise<void> {
    this.calls.push(`revoke ${address}`);
    for (const [k, h] of this.#held)
      if (h.kind === 'grant' && h.address === address) this.#held.delete(k);
    return Promise.resolve();
  }
  unban(address: string): Promise<void> {
    this.calls.push(`unban ${address}`);
    this.#held.delete(`ban:${address}:`);
    return Promise.resolve();
  }
  flushGrants(): Promise<void> {
    for (const [k, h] of this.#held) if (h.kind === 'grant') this.#held.delete(k);
    return Promise.resolve();
  }
  flushBans(): Promise<void> {
    for (const [k, h] of this.#held) if (h.kind === 'ban') this.#held.delete(k);
    return Promise.resolve();
  }
  list(): Promise<FirewallEntry[]> {
    const now = Date.now();
    return Promise.resolve(
      this.#live().map((h) => ({
        kind: h.kind,
        address: h.address,
        ...(h.port ? { port: h.port } : {}),
        ...(h.until !== undefined
          ? { remaining: Math.max(0, Math.round((h.until - now) / 1000)) }
          : {}),
      })),
    );
  }
  status(): Promise<FirewallStatus> {
    return Promise.resolve({
      kind: 'nftables',
      active: true,
      protectedPorts: [],
      grants: 0,
      bans: 0,
      trusted: 0,
      detail: 'memory',
    });
  }
  teardown(): Promise<void> {
    this.#held.clear();
    return Promise.resolve();
  }

  /** Seconds left of a grant (undefined: none; Infinity: forever). */
  grantLeft(address: string, port = 22): number | undefined {
    const h = this.#live().find(
      (x) => x.kind === 'grant' && x.address === address && x.port?.port === port,
    );
    if (!h) return undefined;
    return h.until === undefined ? Infinity : (h.until - Date.now()) / 1000;
  }
  banned(address: string): boolean {
    return this.#live().some((x) => x.kind === 'ban' && x.address === address);
  }
  isTrusted(cidr: string): boolean {
    return this.#live().some((x) => x.kind === 'trusted' && x.address === cidr);
  }
}
