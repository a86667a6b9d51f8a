/**
 * `-l`: reverse DNS names for log lines. knockd resolves synchronously inside its
 * packet loop (a slow resolver stalls detection); here a lookup is started when a
 * source's first knock arrives and never waited for: log lines carry the name only
 * if it is already known. Names only ever go into log lines, never into commands
 * (a PTR record is chosen by whoever owns the address).
 */
import { Resolver } from 'node:dns/promises';

export type ReverseFn = (address: string) => Promise<string[]>;

export interface LookupOptions {
  reverse?: ReverseFn;
  timeoutMs?: number;
  /** Entries kept (oldest dropped first). */
  max?: number;
  /** How long a name (or a failure) is kept, ms. */
  ttlMs?: number;
  now?: () => number;
}

interface Entry {
  name: string | undefined;
  at: number;
}

/** A PTR name is printed in logs: accept only a plain host name, nothing a terminal could interpret. */
const saneName = (name: string): boolean =>
  name.length > 0 && name.length <= 253 && /^[A-Za-z0-9._-]+$/.test(name);

export class HostLookup {
  readonly #cache = new Map<string, Entry>();
  readonly #inFlight = new Set<string>();
  readonly #reverse: ReverseFn;
  readonly #max: number;
  readonly #ttl: number;
  readonly #now: () => number;

  constructor(options: LookupOptions = {}) {
    const timeoutMs = options.timeoutMs ?? 2000;
    if (options.reverse) {
      this.#reverse = options.reverse;
    } else {
      const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
      this.#reverse = (address) => resolver.reverse(address);
    }
    this.#max = options.max ?? 10_000;
    this.#ttl = options.ttlMs ?? 10 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** The name of `address` if known now; starts a lookup (once) if not. Never blocks. */
  nameOf(address: string): string | undefined {
    const entry = this.#cache.get(address);
    if (entry && this.#now() - entry.at < this.#ttl) return entry.name;
    this.request(address);
    return undefined;
  }

  /** Starts a lookup in the background (no-op when known or in flight). */
  request(address: string): void {
    const entry = this.#cache.get(address);
    if (entry && this.#now() - entry.at < this.#ttl) return;
    if (this.#inFlight.has(address)) return;
    this.#inFlight.add(address);
    this.#reverse(address).then(
      (names) => this.#store(address, names.find(saneName)),
      () => this.#store(address, undefined),
    );
  }

  #store(address: string, name: string | undefined): void {
    this.#inFlight.delete(address);
    this.#cache.delete(address);
    this.#cache.set(address, { name, at: this.#now() });
    while (this.#cache.size > this.#max) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }
}
