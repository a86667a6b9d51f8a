/**
 * Pure frame decoders: a captured frame in, one TCP/UDP KnockEvent out. No I/O, no
 * exceptions (every read is bounds-checked against `length`), and no allocation on the
 * hot path except the address strings, which a small direct-mapped cache interns.
 */
import { formatIpv6Words } from '@knock/shared';
import type { KnockEvent } from '@knock/shared';

/** libpcap DLT_* values this decoder understands. */
export const LinkTypes = {
  /** BSD loopback: a 4-byte address family in host byte order. */
  NULL: 0,
  /** Ethernet (and everything that pretends to be), with 802.1Q/802.1ad tags. */
  EN10MB: 1,
  /** Raw IP, Linux numbering (libpcap's DLT_RAW). */
  RAW: 12,
  /** Raw IP, LINKTYPE_RAW numbering (as stored in pcap files). */
  LINKTYPE_RAW: 101,
  /** OpenBSD loopback: the address family in network byte order. */
  LOOP: 108,
  /** Linux cooked capture v1 (`-i any` by default). */
  LINUX_SLL: 113,
  /** Raw IPv4 only. */
  IPV4: 228,
  /** Raw IPv6 only. */
  IPV6: 229,
  /** Linux cooked capture v2. */
  LINUX_SLL2: 276,
} as const;

export type LinkType = (typeof LinkTypes)[keyof typeof LinkTypes];

const supported = new Set<number>(Object.values(LinkTypes));

export function isSupportedLinkType(dlt: number): dlt is LinkType {
  return supported.has(dlt);
}

/** The DLT name for messages (`LINUX_SLL2`), or `DLT n` for one we do not know. */
export function linkTypeName(dlt: number): string {
  for (const [name, value] of Object.entries(LinkTypes)) if (value === dlt) return name;
  return `DLT ${dlt}`;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** 802.1Q, 802.1ad (QinQ) and the pre-standard QinQ tag. */
const isVlanTpid = (type: number): boolean => type === 0x8100 || type === 0x88a8 || type === 0x9100;
/** Stacked tags beyond this are garbage, not a network. */
const MAX_VLAN_TAGS = 8;
/** Bounds the IPv6 extension-header walk (a hostile chain cannot loop us long). */
const MAX_IPV6_EXTENSIONS = 16;

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const TCP_HEADER_MIN = 20;
const UDP_HEADER = 8;

/**
 * Decodes one captured frame of `linkType` into `out`. `length` is the captured length
 * (bytes of `buf` that are valid, from `start`: a batch holds many frames). Returns
 * false, leaving `out` in an unspecified state, for anything that is not a
 * complete-enough TCP or UDP header (ARP, ICMP, non-first fragments, truncated or
 * garbage frames). `out.time` is left to the caller.
 */
export function decodeFrame(
  buf: Buffer,
  length: number,
  linkType: LinkType,
  out: KnockEvent,
  start = 0,
): boolean {
  const end = Math.min(start + length, buf.length);
  const at = start;
  switch (linkType) {
    case LinkTypes.EN10MB:
      if (end < at + 14) return false;
      return decodeEtherType(buf, end, readU16(buf, at + 12), at + 14, out);
    case LinkTypes.LINUX_SLL:
      if (end < at + 16) return false;
      return decodeEtherType(buf, end, readU16(buf, at + 14), at + 16, out);
    case LinkTypes.LINUX_SLL2:
      if (end < at + 20) return false;
      return decodeEtherType(buf, end, readU16(buf, at), at + 20, out);
    case LinkTypes.RAW:
    case LinkTypes.LINKTYPE_RAW:
      return decodeIp(buf, end, at, out);
    case LinkTypes.IPV4:
      return end > at && buf[at]! >> 4 === 4 && decodeIpv4(buf, end, at, out);
    case LinkTypes.IPV6:
      return end > at && buf[at]! >> 4 === 6 && decodeIpv6(buf, end, at, out);
    case LinkTypes.NULL:
    case LinkTypes.LOOP:
      if (end < at + 4) return false;
      // The family's byte order depends on the capturing host; the version nibble decides.
      return decodeIp(buf, end, at + 4, out);
    default:
      return false;
  }
}

// Plain byte reads: every offset is bounds-checked by the caller against `end`, so
// Buffer's own range checks (and their call overhead) are not needed on the hot path.
const readU16 = (buf: Buffer, at: number): number => (buf[at]! << 8) | buf[at + 1]!;
const readU32 = (buf: Buffer, at: number): number =>
  ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;

/** Follows VLAN tags from an EtherType at `offset - 2` to IPv4/IPv6. */
function decodeEtherType(
  buf: Buffer,
  end: number,
  type: number,
  offset: number,
  out: KnockEvent,
): boolean {
  for (let tags = 0; isVlanTpid(type); tags++) {
    // Tag: TCI (2 bytes) then the inner EtherType (2 bytes).
    if (tags === MAX_VLAN_TAGS || offset + 4 > end) return false;
    type = readU16(buf, offset + 2);
    offset += 4;
  }
  if (type === ETHERTYPE_IPV4) return decodeIpv4(buf, end, offset, out);
  if (type === ETHERTYPE_IPV6) return decodeIpv6(buf, end, offset, out);
  return false;
}

function decodeIp(buf: Buffer, end: number, offset: number, out: KnockEvent): boolean {
  if (offset >= end) return false;
  const version = buf[offset]! >> 4;
  if (version === 4) return decodeIpv4(buf, end, offset, out);
  if (version === 6) return decodeIpv6(buf, end, offset, out);
  return false;
}

function decodeIpv4(buf: Buffer, end: number, l3: number, out: KnockEvent): boolean {
  if (l3 + 20 > end) return false;
  const versionIhl = buf[l3]!;
  if (versionIhl >> 4 !== 4) return false;
  const headerLength = (versionIhl & 0x0f) * 4;
  if (headerLength < 20) return false;
  // A non-first fragment carries no transport header: its bytes would be payload.
  if ((readU16(buf, l3 + 6) & 0x1fff) !== 0) return false;
  const totalLength = readU16(buf, l3 + 2);
  // Ethernet pads short frames: the datagram ends at its total length. Zero is what
  // segmentation offload leaves in outgoing packets: trust the capture then.
  const datagramEnd = totalLength === 0 ? end : Math.min(end, l3 + totalLength);
  const l4 = l3 + headerLength;
  if (!decodeTransport(buf, datagramEnd, l4, buf[l3 + 9]!, out)) return false;
  out.family = 4;
  const src = readU32(buf, l3 + 12);
  out.srcV4 = src;
  out.src = ipv4Text(src);
  out.dst = ipv4Text(readU32(buf, l3 + 16));
  return true;
}

function decodeIpv6(buf: Buffer, end: number, l3: number, out: KnockEvent): boolean {
  if (l3 + 40 > end) return false;
  if (buf[l3]! >> 4 !== 6) return false;
  const payloadLength = readU16(buf, l3 + 4);
  // Zero: a jumbogram or an offloaded outgoing packet; trust the capture.
  const datagramEnd = payloadLength === 0 ? end : Math.min(end, l3 + 40 + payloadLength);
  let next = buf[l3 + 6]!;
  let offset = l3 + 40;
  for (let i = 0; ; i++) {
    if (next === IPPROTO_TCP || next === IPPROTO_UDP) break;
    if (i === MAX_IPV6_EXTENSIONS || offset + 8 > datagramEnd) return false;
    switch (next) {
      case 0: // hop-by-hop options
      case 43: // routing
      case 60: // destination options
        next = buf[offset]!;
        offset += (buf[offset + 1]! + 1) * 8;
        break;
      case 44: // fragment: only the first fragment holds the transport header
        if (readU16(buf, offset + 2) >> 3 !== 0) return false;
        next = buf[offset]!;
        offset += 8;
        break;
      case 51: // authentication header: length in 4-byte units, minus 2
        next = buf[offset]!;
        offset += (buf[offset + 1]! + 2) * 4;
        break;
      default: // ESP (encrypted), no next header, ICMPv6, anything else
        return false;
    }
  }
  if (!decodeTransport(buf, datagramEnd, offset, next, out)) return false;
  out.family = 6;
  out.srcV4 = -1;
  out.src = ipv6Text(buf, l3 + 8);
  out.dst = ipv6Text(buf, l3 + 24);
  return true;
}

function decodeTransport(
  buf: Buffer,
  end: number,
  l4: number,
  protocol: number,
  out: KnockEvent,
): boolean {
  if (protocol === IPPROTO_TCP) {
    if (l4 + TCP_HEADER_MIN > end) return false;
    out.protocol = 'tcp';
    out.srcPort = readU16(buf, l4);
    out.dstPort = readU16(buf, l4 + 2);
    out.seq = readU32(buf, l4 + 4);
    out.flags = buf[l4 + 13]!;
    return true;
  }
  if (protocol === IPPROTO_UDP) {
    if (l4 + UDP_HEADER > end) return false;
    out.protocol = 'udp';
    out.srcPort = readU16(buf, l4);
    out.dstPort = readU16(buf, l4 + 2);
    out.seq = 0;
    out.flags = 0;
    return true;
  }
  return false;
}

// --- Address text, interned -------------------------------------------------------
// A direct-mapped cache: the local address and busy sources hit it, a flood of
// distinct spoofed sources just overwrites slots (bounded memory, no eviction work).

const V4_SLOTS = 4096;
const v4Keys = new Uint32Array(V4_SLOTS);
const v4Texts: (string | undefined)[] = new Array<string | undefined>(V4_SLOTS).fill(undefined);

function ipv4Text(address: number): string {
  const slot = Math.imul(address, 0x9e3779b1) >>> 20;
  const cached = v4Texts[slot];
  if (cached !== undefined && v4Keys[slot] === address) return cached;
  const text = formatIpv4(address);
  v4Keys[slot] = address;
  v4Texts[slot] = text;
  return text;
}

const formatIpv4 = (a: number): string =>
  `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;

const V6_SLOTS = 4096;
const v6Keys = new Uint32Array(V6_SLOTS * 4);
const v6Texts: (string | undefined)[] = new Array<string | undefined>(V6_SLOTS).fill(undefined);

function ipv6Text(buf: Buffer, offset: number): string {
  const w0 = readU32(buf, offset);
  const w1 = readU32(buf, offset + 4);
  const w2 = readU32(buf, offset + 8);
  const w3 = readU32(buf, offset + 12);
  const hash = Math.imul(w0 ^ Math.imul(w1, 31) ^ Math.imul(w2, 961) ^ w3, 0x9e3779b1);
  const slot = hash >>> 20;
  const k = slot * 4;
  const cached = v6Texts[slot];
  if (
    cached !== undefined &&
    v6Keys[k] === w0 &&
    v6Keys[k + 1] === w1 &&
    v6Keys[k + 2] === w2 &&
    v6Keys[k + 3] === w3
  )
    return cached;
  const text = formatIpv6(buf, offset);
  v6Keys[k] = w0;
  v6Keys[k + 1] = w1;
  v6Keys[k + 2] = w2;
  v6Keys[k + 3] = w3;
  v6Texts[slot] = text;
  return text;
}

/** inet_ntop's text for the 16 bytes at `offset`, spelled as the config parser spells addresses. */
export function formatIpv6(buf: Uint8Array, offset = 0): string {
  const words = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 8; i++) words[i] = (buf[offset + 2 * i]! << 8) | buf[offset + 2 * i + 1]!;
  return formatIpv6Words(words);
}
