// The event the capture hands to the detector: the one vocabulary between the server's
// I/O layer (capture/) and its pure core (detect/), so the detector imports nothing from
// capture.
import type { Protocol } from './sequence.js';

/**
 * One captured TCP segment or UDP datagram, decoded. Decoders fill a caller-owned
 * object (no allocation per packet on the hot path): copy what you keep.
 */
export interface KnockEvent {
  /** Capture timestamp, milliseconds since the epoch (fractional: µs precision). */
  time: number;
  family: 4 | 6;
  /** Canonical text of the source address (inet_ntop form, as knockd prints it). */
  src: string;
  /** Canonical text of the destination address. */
  dst: string;
  protocol: Protocol;
  srcPort: number;
  dstPort: number;
  /** The TCP flags byte (FIN 0x01 … URG 0x20); 0 for UDP. */
  flags: number;
  /** The TCP sequence number (0 for UDP): a retransmitted SYN repeats it. */
  seq: number;
  /**
   * The IPv4 source as an unsigned 32-bit number (-1 for IPv6), when the decoder set
   * it, so the detector need not parse `src` again; absent, it parses `src`.
   */
  srcV4?: number;
}
