/** `-D`: one line per packet the capture filter let through. */
import { TCP_FLAG_BITS, TCP_FLAGS, type KnockEvent } from '@knock/shared';

export function describePacket(e: KnockEvent): string {
  const host = (a: string) => (e.family === 6 ? `[${a}]` : a);
  const flags =
    e.protocol === 'tcp'
      ? ` ${TCP_FLAGS.filter((f) => (e.flags & TCP_FLAG_BITS[f]) !== 0).join(',') || 'none'}`
      : '';
  return `packet: ${e.protocol} ${host(e.src)}:${e.srcPort} -> ${host(e.dst)}:${e.dstPort}${flags}`;
}
