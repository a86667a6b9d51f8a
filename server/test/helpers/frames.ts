/**
 * Frame builders for decoder tests: every header is written field by field here, so
 * tests read as "Ethernet, VLAN 100, IPv6 with a fragment header, TCP SYN" instead of
 * pasted hex. Checksums are real (a frame can be replayed onto a wire).
 *
 *   ethernet(vlan(ipv6(tcp({ dstPort: 1228, flags: SYN }), { ext: [dstOpts()] }), 100))
 */
import { isIPv4, isIPv6 } from 'node:net';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;

/** A transport segment, ready to be wrapped in IP (the checksum is filled in then). */
export interface Segment {
  protocol: 6 | 17;
  bytes: Buffer;
}

/** A network-layer packet, with the EtherType a link layer must announce for it. */
export interface Packet {
  etherType: number;
  bytes: Buffer;
}

export function tcp(
  opts: {
    srcPort?: number;
    dstPort?: number;
    seq?: number;
    ack?: number;
    flags?: number;
    /** TCP options (padded to 4 bytes); they lengthen the header. */
    options?: Buffer;
    payload?: Buffer;
  } = {},
): Segment {
  const options = pad4(opts.options ?? Buffer.alloc(0));
  const header = Buffer.alloc(20 + options.length);
  header.writeUInt16BE(opts.srcPort ?? 40000, 0);
  header.writeUInt16BE(opts.dstPort ?? 1228, 2);
  header.writeUInt32BE((opts.seq ?? 0x01020304) >>> 0, 4);
  header.writeUInt32BE((opts.ack ?? 0) >>> 0, 8);
  header[12] = (header.length / 4) << 4;
  header[13] = opts.flags ?? SYN;
  header.writeUInt16BE(64240, 14);
  options.copy(header, 20);
  return { protocol: 6, bytes: Buffer.concat([header, opts.payload ?? Buffer.alloc(0)]) };
}

export function udp(opts: { srcPort?: number; dstPort?: number; payload?: Buffer } = {}): Segment {
  const payload = opts.payload ?? Buffer.from([0]);
  const header = Buffer.alloc(8);
  header.writeUInt16BE(opts.srcPort ?? 40000, 0);
  header.writeUInt16BE(opts.dstPort ?? 1228, 2);
  header.writeUInt16BE(8 + payload.length, 4);
  return { protocol: 17, bytes: Buffer.concat([header, payload]) };
}

export function ipv4(
  segment: Segment | { protocol: number; bytes: Buffer },
  opts: {
    src?: string;
    dst?: string;
    ttl?: number;
    /** IP options (padded to 4 bytes): IHL grows beyond 5. */
    options?: Buffer;
    /** Fragment offset in 8-byte units (non-zero: a non-first fragment). */
    fragmentOffset?: number;
    moreFragments?: boolean;
    id?: number;
  } = {},
): Packet {
  const src = ipv4Bytes(opts.src ?? '192.0.2.1');
  const dst = ipv4Bytes(opts.dst ?? '192.0.2.2');
  const options = pad4(opts.options ?? Buffer.alloc(0));
  const header = Buffer.alloc(20 + options.length);
  header[0] = 0x40 | (header.length / 4);
  header.writeUInt16BE(header.length + segment.bytes.length, 2);
  header.writeUInt16BE(opts.id ?? 0x1234, 4);
  header.writeUInt16BE(((opts.moreFragments ? 1 : 0) << 13) | (opts.fragmentOffset ?? 0), 6);
  header[8] = opts.ttl ?? 64;
  header[9] = segment.protocol;
  src.copy(header, 12);
  dst.copy(header, 16);
  options.copy(header, 20);
  header.writeUInt16BE(checksum([header]), 10);
  const body = withTransportChecksum(segment, src, dst, opts.fragmentOffset ?? 0);
  return { etherType: 0x0800, bytes: Buffer.concat([header, body]) };
}

/** An IPv6 extension header, already encoded except for its next-header byte. */
export interface ExtensionHeader {
  type: number;
  /** The whole header; byte 0 (next header) is filled in by ipv6(). */
  bytes: Buffer;
}

/** Hop-by-hop options with PadN up to `size` bytes (a multiple of 8). */
export const hopByHop = (size = 8): ExtensionHeader => optionsHeader(0, size);
/** Destination options with PadN up to `size` bytes (a multiple of 8). */
export const dstOpts = (size = 8): ExtensionHeader => optionsHeader(60, size);

/** A type-0-style routing header with `addresses` (segments left 0, so it is inert). */
export function routing(addresses = 1): ExtensionHeader {
  const bytes = Buffer.alloc(8 + 16 * addresses);
  bytes[1] = 2 * addresses;
  bytes[2] = 0;
  bytes[3] = 0;
  return { type: 43, bytes };
}

export function fragment(
  opts: { offset?: number; more?: boolean; id?: number } = {},
): ExtensionHeader {
  const bytes = Buffer.alloc(8);
  bytes.writeUInt16BE(((opts.offset ?? 0) << 3) | (opts.more ? 1 : 0), 2);
  bytes.writeUInt32BE(opts.id ?? 0xabcdef, 4);
  return { type: 44, bytes };
}

/** An authentication header with `icvWords` 32-bit words of integrity check value. */
export function authHeader(icvWords = 3): ExtensionHeader {
  const bytes = Buffer.alloc(12 + 4 * icvWords);
  bytes[1] = (bytes.length >> 2) - 2;
  bytes.writeUInt32BE(0x100, 4); // SPI
  return { type: 51, bytes };
}

export function ipv6(
  segment: Segment | { protocol: number; bytes: Buffer },
  opts: { src?: string; dst?: string; ext?: readonly ExtensionHeader[]; hopLimit?: number } = {},
): Packet {
  const src = ipv6Bytes(opts.src ?? '2001:db8::1');
  const dst = ipv6Bytes(opts.dst ?? '2001:db8::2');
  const ext = opts.ext ?? [];
  const chain = ext.map((header, i) => {
    const bytes = Buffer.from(header.bytes);
    bytes[0] = ext[i + 1]?.type ?? segment.protocol;
    return bytes;
  });
  const firstFragment = ext.find((h) => h.type === 44);
  const fragmentOffset = firstFragment ? firstFragment.bytes.readUInt16BE(2) >> 3 : 0;
  const body = withTransportChecksum(segment, src, dst, fragmentOffset);
  const payloadLength = chain.reduce((n, b) => n + b.length, 0) + body.length;
  const header = Buffer.alloc(40);
  header.writeUInt32BE(0x60000000, 0);
  header.writeUInt16BE(payloadLength, 4);
  header[6] = ext[0]?.type ?? segment.protocol;
  header[7] = opts.hopLimit ?? 64;
  src.copy(header, 8);
  dst.copy(header, 24);
  return { etherType: 0x86dd, bytes: Buffer.concat([header, ...chain, body]) };
}

/** An 802.1Q tag (or 802.1ad with tpid 0x88a8) around `inner`; nest for QinQ. */
export function vlan(inner: Packet, id: number, tpid = 0x8100, priority = 0): Packet {
  const tag = Buffer.alloc(4);
  tag.writeUInt16BE(((priority & 7) << 13) | (id & 0x0fff), 0);
  tag.writeUInt16BE(inner.etherType, 2);
  return { etherType: tpid, bytes: Buffer.concat([tag, inner.bytes]) };
}

/** Any EtherType payload (ARP and friends) for "not IP" tests. */
export const otherPayload = (etherType: number, bytes: Buffer): Packet => ({ etherType, bytes });

export function ethernet(inner: Packet, opts: { src?: string; dst?: string } = {}): Buffer {
  const header = Buffer.alloc(14);
  macBytes(opts.dst ?? '02:00:00:00:00:02').copy(header, 0);
  macBytes(opts.src ?? '02:00:00:00:00:01').copy(header, 6);
  header.writeUInt16BE(inner.etherType, 12);
  const frame = Buffer.concat([header, inner.bytes]);
  // Ethernet pads to 60 bytes: decoders must not read the padding as headers.
  return frame.length < 60 ? Buffer.concat([frame, Buffer.alloc(60 - frame.length)]) : frame;
}

/** Linux cooked capture v1 (DLT_LINUX_SLL, 16 bytes): what `-i any` gives by default. */
export function sll(inner: Packet, opts: { packetType?: number; address?: string } = {}): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt16BE(opts.packetType ?? 0, 0); // 0: to us
  header.writeUInt16BE(1, 2); // ARPHRD_ETHER
  header.writeUInt16BE(6, 4);
  macBytes(opts.address ?? '02:00:00:00:00:01').copy(header, 6);
  header.writeUInt16BE(inner.etherType, 14);
  return Buffer.concat([header, inner.bytes]);
}

/** Linux cooked capture v2 (DLT_LINUX_SLL2, 20 bytes). */
export function sll2(
  inner: Packet,
  opts: { packetType?: number; ifindex?: number; address?: string } = {},
): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(inner.etherType, 0);
  header.writeUInt32BE(opts.ifindex ?? 2, 4);
  header.writeUInt16BE(1, 8); // ARPHRD_ETHER
  header[10] = opts.packetType ?? 0;
  header[11] = 6;
  macBytes(opts.address ?? '02:00:00:00:00:01').copy(header, 12);
  return Buffer.concat([header, inner.bytes]);
}

/** BSD loopback (DLT_NULL): the address family as a host-order 32-bit word. */
export function nullLink(inner: Packet, family = inner.etherType === 0x0800 ? 2 : 24): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(family, 0);
  return Buffer.concat([header, inner.bytes]);
}

// --- bytes -------------------------------------------------------------------------

function optionsHeader(type: number, size: number): ExtensionHeader {
  if (size < 8 || size % 8 !== 0)
    throw new Error(`extension header size ${size}: use a multiple of 8`);
  const bytes = Buffer.alloc(size);
  bytes[1] = size / 8 - 1;
  bytes[2] = 1; // PadN
  bytes[3] = size - 4;
  return { type, bytes };
}

function pad4(bytes: Buffer): Buffer {
  const rest = bytes.length % 4;
  return rest === 0 ? bytes : Buffer.concat([bytes, Buffer.alloc(4 - rest)]);
}

export function ipv4Bytes(text: string): Buffer {
  if (!isIPv4(text)) throw new Error(`not an IPv4 address: ${text}`);
  return Buffer.from(text.split('.').map(Number));
}

export function ipv6Bytes(text: string): Buffer {
  if (!isIPv6(text)) throw new Error(`not an IPv6 address: ${text}`);
  let head = text;
  let v4: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    v4 = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    head = `${text.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const [left = '', right] = head.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const l = parse(left);
  const r = right === undefined ? [] : parse(right);
  const words = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  const bytes = Buffer.alloc(16);
  words.forEach((w, i) => bytes.writeUInt16BE(w, 2 * i));
  return bytes;
}

function macBytes(text: string): Buffer {
  return Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
}

/** The Internet checksum over the concatenation of `parts`. */
function checksum(parts: readonly Buffer[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const part of parts)
    for (const byte of part) {
      if (odd === undefined) odd = byte;
      else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function withTransportChecksum(
  segment: { protocol: number; bytes: Buffer },
  src: Buffer,
  dst: Buffer,
  fragmentOffset: number,
): Buffer {
  const bytes = Buffer.from(segment.bytes);
  if (fragmentOffset !== 0 || (segment.protocol !== 6 && segment.protocol !== 17)) return bytes;
  const at = segment.protocol === 6 ? 16 : 6;
  if (bytes.length < at + 2) return bytes;
  bytes.writeUInt16BE(0, at);
  const pseudo = Buffer.alloc(src.length === 4 ? 12 : 40);
  if (src.length === 4) {
    src.copy(pseudo, 0);
    dst.copy(pseudo, 4);
    pseudo[9] = segment.protocol;
    pseudo.writeUInt16BE(bytes.length, 10);
  } else {
    src.copy(pseudo, 0);
    dst.copy(pseudo, 16);
    pseudo.writeUInt32BE(bytes.length, 32);
    pseudo[39] = segment.protocol;
  }
  const sum = checksum([pseudo, bytes]);
  bytes.writeUInt16BE(segment.protocol === 17 && sum === 0 ? 0xffff : sum, at);
  return bytes;
}
