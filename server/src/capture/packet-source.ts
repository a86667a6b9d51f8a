import type { KnockEvent } from '@knock/shared';

export type { KnockEvent };

/**
 * A reusable event. `srcV4` is a non-enumerable property here: the decoders keep it
 * up to date, and copies (`{ ...event }`) and comparisons see the documented fields.
 */
export const emptyEvent = (): KnockEvent =>
  Object.defineProperty(
    {
      time: 0,
      family: 4,
      src: '',
      dst: '',
      protocol: 'tcp',
      srcPort: 0,
      dstPort: 0,
      flags: 0,
      seq: 0,
    } as KnockEvent,
    'srcV4',
    { value: undefined, writable: true, enumerable: false, configurable: true },
  );

/** Capture counters, as pcap_stats reports them. */
export interface CaptureStats {
  received: number;
  dropped: number;
}

/** pcap_stats's counters kept apart: ps_drop (the kernel's ring was full) and ps_ifdrop. */
export interface CaptureCounters {
  received: number;
  kernelDropped: number;
  interfaceDropped: number;
}

/**
 * Where knock events come from: libpcap in production (cap-source.ts), a fake
 * in tests. The daemon never knows which.
 */
export interface PacketSource {
  /** Starts delivering events; `onEvent` receives a reused object. */
  start(onEvent: (event: KnockEvent) => void, onError: (error: Error) => void): void;
  /** Replaces the kernel filter (BPF text, pcap syntax). */
  setFilter(filter: string): void;
  stats(): CaptureStats;
  /** The same counters, kernel and interface drops apart (libpcap sources). */
  counters?(): CaptureCounters;
  close(): void;
}
