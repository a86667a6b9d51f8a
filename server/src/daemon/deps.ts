/**
 * The effects the daemon core uses, as small interfaces: run.ts binds the real
 * capture, command runner, firewall and one-time-sequence files; tests bind fakes.
 * (Injected dependencies are "deps" here, never "ports": in a port-knocking tool a
 * port is a TCP or UDP port.)
 */
import type { Door, Issue, Knock, KnockdConfig } from '@knock/shared';
import type { FilterDoor, LocalAddresses } from '../capture/filter.js';
import type { PacketSource } from '../capture/packet-source.js';
import type { PendingStop } from '../actions/door-actions.js';

export type { FilterDoor, LocalAddresses };

/** libpcap's source has one handle per interface and can reopen the ones that failed. */
export type ReopenableSource = PacketSource & {
  /** Reopens the interfaces whose capture failed; throws while they are still missing. */
  reopen?(): Promise<void>;
  /** Interfaces not capturing now. */
  readonly failed?: readonly string[];
};

export interface CaptureDeps {
  buildFilter(doors: FilterDoor[], local: LocalAddresses, options: { ipv4Only: boolean }): string;
  /** Opens the capture; throws a KnockError (ExitCode.capture) naming the interface when it cannot. */
  open(options: { interfaces: string[]; filter: string }): Promise<ReopenableSource>;
  localAddresses(interfaces: string[], options: { ipv4Only: boolean }): LocalAddresses;
  /** Calls `onChange` when the interfaces' addresses change; returns a stop function. */
  watchAddresses(interfaces: string[], onChange: () => void): () => void;
  /**
   * Gives memory back to the system after a burst (a full garbage collection, free
   * heap pages returned). Called once things are calm after the attempt table shrank.
   */
  releaseMemory?(): void;
}

/** What happens when a door opens, besides logging: commands, built-in grants and bans. */
export interface ActionsDeps {
  /** OPEN SESAME for `src`: start command (stop command after Cmd_Timeout), Open_Ports, Ban. */
  open(door: Door, src: string, family: 4 | 6): void;
  /** At shutdown: every pending stop command runs now, so nothing stays open by accident. */
  runAllPendingNow(): Promise<void>;
  /** Stops the runner (after runAllPendingNow). */
  close(): Promise<void>;
  /** After a successful reload: the new config (firewall ports, trusted hosts). */
  reconfigure?(config: KnockdConfig): Promise<void>;
  /** The stop commands waiting to run (status). */
  pendingStops?(): readonly PendingStop[];
}

export interface OtsRead {
  /** The next unused sequence; undefined (as readOneTimeSequences says it) when none is left. */
  current?: Knock[] | undefined;
  remaining: number;
  issues: Issue[];
}

export interface OtsFileDeps {
  read(path: string): Promise<OtsRead>;
  /** Marks `knocks` used (atomically) and returns the next unused sequence (undefined: none). */
  consume(
    path: string,
    knocks: readonly Knock[],
  ): Promise<{ next?: Knock[] | undefined; remaining: number }>;
}

export interface ConfigLoad {
  config: KnockdConfig;
  issues: Issue[];
}

export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): Timer;
}

/** setTimeout's ceiling (2^31-1 ms, about 24.8 days): longer delays fire after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    // A Seq_Timeout of years must not become a 1 ms timer (and a busy loop of re-arming):
    // fire at the ceiling instead; the caller finds nothing due yet and re-arms.
    const handle = setTimeout(fn, ms > 0 ? Math.min(ms, MAX_TIMER_MS) : 0);
    return { cancel: () => clearTimeout(handle) };
  },
};
