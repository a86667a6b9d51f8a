import { SocketAddress, isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LinkTypes,
  decodeFrame,
  formatIpv6,
  isSupportedLinkType,
  linkTypeName,
  type LinkType,
} from '../../src/capture/decode.js';
import { emptyEvent, type KnockEvent } from '../../src/capture/packet-source.js';
import {
  ACK,
  FIN,
  PSH,
  SYN,
  URG,
  authHeader,
  dstOpts,
  ethernet,
  fragment,
  hopByHop,
  ipv4,
  ipv6,
  ipv6Bytes,
  nullLink,
  otherPayload,
  routing,
  sll,
  sll2,
  tcp,
  udp,
  vlan,
  type Packet,
  type Segment,
} from '../helpers/frames.js';

function decode(frame: Buffer, linkType: LinkType): KnockEvent | undefined {
  const out = emptyEvent();
  return decodeFrame(frame, frame.length, linkType, out) ? { ...out } : undefined;
}

const fields = (e: KnockEvent | undefined) =>
  e && {
    family: e.family,
    src: e.src,
    dst: e.dst,
    protocol: e.protocol,
    srcPort: e.srcPort,
    dstPort: e.dstPort,
    flags: e.flags,
    seq: e.seq,
  };

/** One frame of the catalog, with the shortest prefix that must decode. */
interface Case {
  name: string;
  frame: Buffer;
  linkType: LinkType;
  expected: Omit<KnockEvent, 'time'>;
  minLength: number;
}

const LINKS: Record<string, { wrap: (p: Packet) => Buffer; type: LinkType; header: number }> = {
  ethernet: { wrap: (p) => ethernet(p), type: LinkTypes.EN10MB, header: 14 },
  sll: { wrap: (p) => sll(p), type: LinkTypes.LINUX_SLL, header: 16 },
  sll2: { wrap: (p) => sll2(p), type: LinkTypes.LINUX_SLL2, header: 20 },
  raw: { wrap: (p) => p.bytes, type: LinkTypes.RAW, header: 0 },
  linktypeRaw: { wrap: (p) => p.bytes, type: LinkTypes.LINKTYPE_RAW, header: 0 },
  null: { wrap: (p) => nullLink(p), type: LinkTypes.NULL, header: 4 },
};

function makeCase(
  name: string,
  link: keyof typeof LINKS,
  segment: Segment,
  packet: Packet,
  expected: Omit<KnockEvent, 'time'>,
): Case {
  const l = LINKS[link]!;
  const transportMin = segment.protocol === 6 ? 20 : 8;
  return {
    name: `${name} over ${link}`,
    frame: l.wrap(packet),
    linkType: l.type,
    expected,
    minLength: l.header + packet.bytes.length - segment.bytes.length + transportMin,
  };
}

const syn = tcp({ srcPort: 40001, dstPort: 1228, seq: 0xdeadbeef, flags: SYN });
const knockUdp = udp({ srcPort: 40002, dstPort: 1227 });
const v4syn = {
  family: 4 as const,
  src: '192.0.2.1',
  dst: '192.0.2.2',
  protocol: 'tcp' as const,
  srcPort: 40001,
  dstPort: 1228,
  flags: SYN,
  seq: 0xdeadbeef,
};
const v6syn = { ...v4syn, family: 6 as const, src: '2001:db8::1', dst: '2001:db8::2' };
const v4udp = {
  ...v4syn,
  protocol: 'udp' as const,
  srcPort: 40002,
  dstPort: 1227,
  flags: 0,
  seq: 0,
};
const v6udp = { ...v4udp, family: 6 as const, src: '2001:db8::1', dst: '2001:db8::2' };

const catalog: Case[] = [];
for (const link of Object.keys(LINKS)) {
  catalog.push(makeCase('IPv4 TCP SYN', link, syn, ipv4(syn), v4syn));
  catalog.push(makeCase('IPv4 UDP', link, knockUdp, ipv4(knockUdp), v4udp));
  catalog.push(makeCase('IPv6 TCP SYN', link, syn, ipv6(syn), v6syn));
  catalog.push(makeCase('IPv6 UDP', link, knockUdp, ipv6(knockUdp), v6udp));
}
for (const link of ['ethernet', 'sll', 'sll2'] as const) {
  catalog.push(makeCase('802.1Q IPv4', link, syn, vlan(ipv4(syn), 100), v4syn));
  catalog.push(makeCase('802.1Q IPv6', link, syn, vlan(ipv6(syn), 4094), v6syn));
  catalog.push(
    makeCase('QinQ (802.1ad + 802.1Q)', link, syn, vlan(vlan(ipv4(syn), 10), 20, 0x88a8), v4syn),
  );
  catalog.push(
    makeCase(
      'three stacked tags',
      link,
      knockUdp,
      vlan(vlan(vlan(ipv6(knockUdp), 1), 2, 0x9100), 3, 0x88a8),
      v6udp,
    ),
  );
}
const withOptions = tcp({
  srcPort: 40001,
  dstPort: 1228,
  seq: 0xdeadbeef,
  flags: SYN,
  options: Buffer.from([2, 4, 5, 0xb4, 4, 2, 1, 0]),
});
catalog.push(
  makeCase(
    'IPv4 with IP options (IHL 8) and TCP options',
    'ethernet',
    withOptions,
    ipv4(withOptions, { options: Buffer.from([7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0]) }),
    v4syn,
  ),
);
catalog.push(
  makeCase('IPv4 first fragment', 'ethernet', syn, ipv4(syn, { moreFragments: true }), v4syn),
);
const chains: [string, Parameters<typeof ipv6>[1]][] = [
  ['hop-by-hop', { ext: [hopByHop()] }],
  ['16-byte destination options', { ext: [dstOpts(16)] }],
  ['routing header', { ext: [routing(2)] }],
  ['first fragment', { ext: [fragment({ more: true })] }],
  ['AH', { ext: [authHeader()] }],
  [
    'hop-by-hop, routing, fragment, AH, destination options',
    { ext: [hopByHop(), routing(1), fragment({ more: true }), authHeader(5), dstOpts(24)] },
  ],
];
for (const [name, opts] of chains) {
  catalog.push(makeCase(`IPv6 ${name} TCP`, 'ethernet', syn, ipv6(syn, opts), v6syn));
  catalog.push(makeCase(`IPv6 ${name} UDP`, 'sll', knockUdp, ipv6(knockUdp, opts), v6udp));
}

describe('decodeFrame', () => {
  it.each(catalog.map((c) => [c.name, c] as const))('decodes %s', (_name, c) => {
    expect(fields(decode(c.frame, c.linkType))).toEqual(c.expected);
  });

  it.each(catalog.map((c) => [c.name, c] as const))(
    'never throws on %s truncated at any offset, and decodes only a complete-enough prefix',
    (_name, c) => {
      const out = emptyEvent();
      for (let cut = 0; cut <= c.frame.length; cut++) {
        // Both ways a short capture can look: a short buffer, or a long one with a short length.
        const short = Buffer.from(c.frame.subarray(0, cut));
        const ok = decodeFrame(short, cut, c.linkType, out);
        expect(decodeFrame(c.frame, cut, c.linkType, emptyEvent())).toBe(ok);
        expect({ cut, ok }).toEqual({ cut, ok: cut >= c.minLength });
        if (ok) expect(fields(out)).toEqual(c.expected);
      }
    },
  );

  it('decodes frames packed one after another in one buffer (a capture batch), each within its own length', () => {
    // Records as the capture hands them over: 16 header bytes, then the frame, padded to 8.
    const at: number[] = [];
    let size = 0;
    for (const c of catalog) {
      at.push(size + 16);
      size += (16 + c.frame.length + 7) & ~7;
    }
    // Filler bytes everywhere between frames: a decoder that reads past its frame sees garbage.
    const batch = Buffer.alloc(size, 0xa5);
    catalog.forEach((c, i) => c.frame.copy(batch, at[i]));
    catalog.forEach((c, i) => {
      const out = emptyEvent();
      expect(decodeFrame(batch, c.frame.length, c.linkType, out, at[i])).toBe(true);
      expect(fields(out)).toEqual(c.expected);
      // Cut short inside the batch: only a complete-enough prefix decodes.
      const cut = c.minLength - 1;
      expect(decodeFrame(batch, cut, c.linkType, emptyEvent(), at[i])).toBe(false);
    });
  });

  it('reports every TCP flag bit and the sequence number', () => {
    for (const flags of [FIN, SYN | ACK, FIN | PSH | URG, 0, 0xff]) {
      const segment = tcp({ flags, seq: 0xffffffff });
      expect(decode(ethernet(ipv4(segment)), LinkTypes.EN10MB)).toMatchObject({
        flags,
        seq: 0xffffffff,
      });
    }
  });

  it('resets flags and seq when a UDP datagram follows a TCP segment in the same event object', () => {
    const out = emptyEvent();
    expect(decodeFrame(ethernet(ipv4(syn)), 64, LinkTypes.EN10MB, out)).toBe(true);
    const frame = ethernet(ipv6(knockUdp));
    expect(decodeFrame(frame, frame.length, LinkTypes.EN10MB, out)).toBe(true);
    expect(fields(out)).toEqual(v6udp);
  });

  it('ignores non-first IPv4 and IPv6 fragments (their bytes are payload, not headers)', () => {
    expect(decode(ethernet(ipv4(syn, { fragmentOffset: 185 })), LinkTypes.EN10MB)).toBeUndefined();
    expect(
      decode(ethernet(ipv6(syn, { ext: [fragment({ offset: 185 })] })), LinkTypes.EN10MB),
    ).toBeUndefined();
  });

  it('ignores what is not TCP or UDP', () => {
    const icmp = { protocol: 1, bytes: Buffer.from([8, 0, 0, 0, 0, 1, 0, 1]) };
    const icmp6 = { protocol: 58, bytes: Buffer.from([128, 0, 0, 0, 0, 1, 0, 1]) };
    const esp = { protocol: 50, bytes: Buffer.alloc(40) };
    const noNext = { protocol: 59, bytes: Buffer.alloc(0) };
    expect(decode(ethernet(ipv4(icmp)), LinkTypes.EN10MB)).toBeUndefined();
    expect(decode(ethernet(ipv6(icmp6)), LinkTypes.EN10MB)).toBeUndefined();
    expect(decode(ethernet(ipv6(esp)), LinkTypes.EN10MB)).toBeUndefined();
    expect(decode(ethernet(ipv6(noNext, { ext: [dstOpts()] })), LinkTypes.EN10MB)).toBeUndefined();
    expect(
      decode(ethernet(otherPayload(0x0806, Buffer.alloc(28))), LinkTypes.EN10MB),
    ).toBeUndefined();
    expect(
      decode(ethernet(vlan(otherPayload(0x88cc, Buffer.alloc(40)), 5)), LinkTypes.EN10MB),
    ).toBeUndefined();
  });

  it('does not read Ethernet padding as a TCP header', () => {
    // An IPv4 header that announces TCP but carries only 8 bytes: the rest of the
    // 60-byte frame is padding.
    const stub = { protocol: 6, bytes: syn.bytes.subarray(0, 8) };
    const frame = ethernet(ipv4(stub));
    expect(frame.length).toBe(60);
    expect(decode(frame, LinkTypes.EN10MB)).toBeUndefined();
  });

  it('rejects the wrong IP version for single-family raw links, and more than 8 VLAN tags', () => {
    expect(decode(ipv6(syn).bytes, LinkTypes.IPV4)).toBeUndefined();
    expect(decode(ipv4(syn).bytes, LinkTypes.IPV6)).toBeUndefined();
    expect(fields(decode(ipv4(syn).bytes, LinkTypes.IPV4))).toEqual(v4syn);
    expect(fields(decode(ipv6(syn).bytes, LinkTypes.IPV6))).toEqual(v6syn);
    let deep = ipv4(syn);
    for (let i = 0; i < 9; i++) deep = vlan(deep, i + 1);
    expect(decode(ethernet(deep), LinkTypes.EN10MB)).toBeUndefined();
  });

  it('gives up on an endless IPv6 extension chain', () => {
    const ext = Array.from({ length: 40 }, () => dstOpts());
    expect(decode(ethernet(ipv6(syn, { ext })), LinkTypes.EN10MB)).toBeUndefined();
  });

  it('prints addresses as inet_ntop does', () => {
    const cases: [string, string][] = [
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ];
    for (const [input, text] of cases) {
      const frame = ethernet(ipv6(syn, { src: input, dst: input }));
      expect(decode(frame, LinkTypes.EN10MB)).toMatchObject({ src: text, dst: text });
    }
    const v4 = decode(
      ethernet(ipv4(syn, { src: '0.0.0.0', dst: '255.255.255.255' })),
      LinkTypes.EN10MB,
    );
    expect(v4).toMatchObject({ src: '0.0.0.0', dst: '255.255.255.255' });
  });

  it('garbage never throws, and whatever decodes is a well-formed event', () => {
    const linkType = fc.constantFrom(...(Object.values(LinkTypes) as LinkType[]));
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        linkType,
        fc.nat(250),
        (bytes, dlt, length) => {
          const out = emptyEvent();
          const buf = Buffer.from(bytes);
          if (decodeFrame(buf, length, dlt, out)) wellFormed(out);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('corrupted real frames never throw', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...catalog),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (c, edits) => {
          const buf = Buffer.from(c.frame);
          for (const [at, value] of edits) buf[at % buf.length] = value;
          const out = emptyEvent();
          if (decodeFrame(buf, buf.length, c.linkType, out)) wellFormed(out);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

function wellFormed(e: KnockEvent): void {
  expect(isIP(e.src)).toBe(e.family);
  expect(isIP(e.dst)).toBe(e.family);
  expect(['tcp', 'udp']).toContain(e.protocol);
  expect(e.srcPort).toBeGreaterThanOrEqual(0);
  expect(e.dstPort).toBeLessThanOrEqual(0xffff);
  expect(e.flags).toBeLessThanOrEqual(0xff);
}

describe('formatIpv6', () => {
  it('agrees with libuv inet_ntop on any 16 bytes', () => {
    // Bias towards zero words, where compression rules live.
    const word = fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
        const bytes = Buffer.alloc(16);
        words.forEach((w, i) => bytes.writeUInt16BE(w, 2 * i));
        const full = words.map((w) => w.toString(16)).join(':');
        expect(formatIpv6(bytes)).toBe(
          new SocketAddress({ address: full, family: 'ipv6' }).address,
        );
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips through the frame builder', () => {
    expect(formatIpv6(ipv6Bytes('::1.2.3.4'))).toBe('::1.2.3.4');
    expect(formatIpv6(ipv6Bytes('::'))).toBe('::');
    expect(formatIpv6(ipv6Bytes('::1'))).toBe('::1');
  });
});

describe('link types', () => {
  it('names and recognises the DLTs it decodes', () => {
    expect(isSupportedLinkType(276)).toBe(true);
    expect(isSupportedLinkType(127)).toBe(false);
    expect(linkTypeName(113)).toBe('LINUX_SLL');
    expect(linkTypeName(127)).toBe('DLT 127');
  });
});
