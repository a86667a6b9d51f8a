/**
 * The capture supervisor: owns the packet source, and when an interface goes away (or
 * libpcap fails) logs it, retries every second and recovers when it is back. A source
 * that can reopen its failed interfaces (one pcap handle per interface) keeps the others
 * capturing meanwhile; any other is reopened whole.
 */
import { KnockError, type KnockEvent } from '@knock/shared';
import { NO_PACKETS_FILTER } from '../capture/filter.js';
import type { Logger } from './log.js';
import type { CaptureDeps, Clock, ReopenableSource, Timer } from './deps.js';

export interface SupervisorDeps {
  capture: CaptureDeps;
  interfaces: string[];
  clock: Clock;
  log: Logger;
  /** Milliseconds between attempts to reopen a lost capture (default 1000). */
  retryMs: number | undefined;
  stopping: () => boolean;
  onEvent: (event: KnockEvent) => void;
  /** Reads the local addresses again (the interface may come back with others). */
  refreshAddresses: () => void;
  /** Builds (and records) the filter for a capture opened whole again. */
  buildFilter: () => string;
}

export class CaptureSupervisor {
  readonly #deps: SupervisorDeps;
  #source: ReopenableSource | undefined;
  #retry: Timer | undefined;
  #lost = false;

  constructor(deps: SupervisorDeps) {
    this.#deps = deps;
  }

  /** The source capturing now (none while a capture that cannot reopen is lost). */
  get source(): ReopenableSource | undefined {
    return this.#source;
  }

  /** The capture failed and is being retried. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Opens the capture with `filter` and starts delivering packets. */
  async open(filter: string): Promise<void> {
    const source = await this.#deps.capture.open({ interfaces: this.#deps.interfaces, filter });
    this.#attach(source);
  }

  /** Throws the capture's own error when an interface is missing or down. */
  async explainMissingInterface(): Promise<void> {
    let probe: ReopenableSource;
    try {
      probe = await this.#deps.capture.open({
        interfaces: this.#deps.interfaces,
        filter: NO_PACKETS_FILTER,
      });
    } catch (error) {
      if (error instanceof KnockError) throw error;
      return;
    }
    probe.close();
  }

  /** Shutdown: no more retries, the source closed. */
  close(): void {
    this.#retry?.cancel();
    this.#source?.close();
    this.#source = undefined;
  }

  #attach(source: ReopenableSource): void {
    this.#source = source;
    source.start(
      (event) => this.#deps.onEvent(event),
      (error) => this.#onError(source, error),
    );
  }

  #onError(source: ReopenableSource, error: Error): void {
    if (source !== this.#source || this.#deps.stopping()) return;
    const seconds = Math.round((this.#deps.retryMs ?? 1000) / 1000) || 1;
    this.#deps.log.error(
      'capture',
      `capture failed: ${error.message}; retrying every ${seconds} s`,
    );
    this.#lost = true;
    if (typeof source.reopen !== 'function') {
      this.#source = undefined;
      try {
        source.close();
      } catch {
        // already broken
      }
    }
    this.#scheduleReopen();
  }

  #scheduleReopen(): void {
    if (this.#deps.stopping() || this.#retry) return;
    this.#retry = this.#deps.clock.setTimer(() => void this.#reopen(), this.#deps.retryMs ?? 1000);
  }

  async #reopen(): Promise<void> {
    this.#retry = undefined;
    if (this.#deps.stopping()) return;
    // The interface may come back with other addresses (or none yet).
    this.#deps.refreshAddresses();
    const current = this.#source;
    if (current) {
      if (typeof current.reopen !== 'function') return;
      try {
        await current.reopen();
      } catch (error) {
        this.#deps.log.debug(`capture still failing: ${(error as Error).message}`);
        this.#scheduleReopen();
        return;
      }
      if (this.#deps.stopping() || current !== this.#source) return;
      if ((current.failed?.length ?? 0) > 0) {
        this.#scheduleReopen();
        return;
      }
    } else {
      let source: ReopenableSource;
      try {
        const filter = this.#deps.buildFilter();
        source = await this.#deps.capture.open({ interfaces: this.#deps.interfaces, filter });
      } catch (error) {
        this.#deps.log.debug(`capture still failing: ${(error as Error).message}`);
        this.#scheduleReopen();
        return;
      }
      if (this.#deps.stopping()) {
        source.close();
        return;
      }
      this.#attach(source);
    }
    if (this.#lost) {
      this.#lost = false;
      this.#deps.log.info('capture', `listening on ${this.#deps.interfaces.join(',')} again`);
    }
  }
}
