import { KnockError, parseSequence } from '@knock/shared';
import { describe, expect, it } from 'vitest';
import { testFilter } from '../../src/capture/cap-source.js';
import { LinkTypes, type LinkType } from '../../src/capture/decode.js';
import { NO_PACKETS_FILTER, buildFilter, type FilterDoor } from '../../src/capture/filter.js';
import {
  ACK,
  FIN,
  RST,
  SYN,
  dstOpts,
  ethernet,
  fragment,
  hopByHop,
  ipv4,
  ipv6,
  sll,
  sll2,
  tcp,
  udp,
  type Packet,
} from '../helpers/frames.js';

const local = { v4: ['192.0.2.2'], v6: ['2001:db8::2'] };
const knocks = (text: string) => parseSequence(text).knocks;

const LINKS: [string, LinkType, (p: Packet) => Buffer][] = [
  ['Ethernet', LinkTypes.EN10MB, (p) => ethernet(p)],
  ['SLL', LinkTypes.LINUX_SLL, (p) => sll(p)],
  ['SLL2', LinkTypes.LINUX_SLL2, (p) => sll2(p)],
  ['raw IP', LinkTypes.RAW, (p) => p.bytes],
];

/** Which of `packets` libpcap's compiled filter lets through, on every link type (they must agree). */
async function passes(filter: string, packets: Record<string, Packet>): Promise<string[]> {
  const names = Object.keys(packets);
  let first: string[] | undefined;
  for (const [linkName, dlt, wrap] of LINKS) {
    const results = await testFilter(
      filter,
      dlt,
      names.map((n) => wrap(packets[n]!)),
    );
    const passed = names.filter((_, i) => results[i]);
    if (first === undefined) first = passed;
    else expect(passed, `${linkName} disagrees with Ethernet`).toEqual(first);
  }
  return first ?? [];
}

const v4 = (flags: number, dstPort: number, dst = '192.0.2.2') =>
  ipv4(tcp({ flags, dstPort }), { dst });
const v6 = (
  flags: number,
  dstPort: number,
  dst = '2001:db8::2',
  ext: Parameters<typeof ipv6>[1] = {},
) => ipv6(tcp({ flags, dstPort }), { dst, ...ext });

describe('buildFilter', () => {
  it('lets through only door ports to local addresses, with the door flags for IPv4', async () => {
    const door: FilterDoor = { knocks: knocks('1228,1227'), tcpFlags: { syn: true, ack: false } };
    const filter = buildFilter([door], local);
    expect(
      await passes(filter, {
        'v4 SYN 1228': v4(SYN, 1228),
        'v4 SYN 1227': v4(SYN, 1227),
        'v4 SYN|ACK 1228': v4(SYN | ACK, 1228),
        'v4 ACK 1228': v4(ACK, 1228),
        'v4 RST 1228': v4(RST, 1228),
        'v4 SYN 22': v4(SYN, 22),
        'v4 SYN 1228 to another host': v4(SYN, 1228, '192.0.2.99'),
        'v4 UDP 1228': ipv4(udp({ dstPort: 1228 })),
        'v6 SYN 1228': v6(SYN, 1228),
        'v6 ACK 1227 (flags are the detector job)': v6(ACK, 1227),
        'v6 SYN 22': v6(SYN, 22),
        'v6 SYN 1228 to another host': v6(SYN, 1228, '2001:db8::99'),
        'v6 UDP 1228': ipv6(udp({ dstPort: 1228 })),
        'v6 destination options SYN 1228': v6(SYN, 1228, undefined, { ext: [dstOpts()] }),
        'v6 hop-by-hop + fragment SYN 1228': v6(SYN, 1228, undefined, {
          ext: [hopByHop(), fragment({ more: true })],
        }),
      }),
    ).toEqual([
      'v4 SYN 1228',
      'v4 SYN 1227',
      'v6 SYN 1228',
      'v6 ACK 1227 (flags are the detector job)',
      'v6 destination options SYN 1228',
      'v6 hop-by-hop + fragment SYN 1228',
    ]);
  });

  it('lets any TCP flags through for a door without TCPFlags, and UDP steps only as UDP', async () => {
    const filter = buildFilter([{ knocks: knocks('7000,8000:udp'), tcpFlags: {} }], local);
    expect(
      await passes(filter, {
        'SYN 7000': v4(SYN, 7000),
        'ACK 7000': v4(ACK, 7000),
        'no flags 7000': v4(0, 7000),
        'UDP 8000': ipv4(udp({ dstPort: 8000 })),
        'TCP 8000': v4(SYN, 8000),
        'UDP 7000': ipv4(udp({ dstPort: 7000 })),
        'v6 UDP 8000': ipv6(udp({ dstPort: 8000 })),
      }),
    ).toEqual(['SYN 7000', 'ACK 7000', 'no flags 7000', 'UDP 8000', 'v6 UDP 8000']);
  });

  it('keeps each door its own flags when doors share addresses', async () => {
    const filter = buildFilter(
      [
        { knocks: knocks('1000'), tcpFlags: { syn: true } },
        { knocks: knocks('2000'), tcpFlags: { fin: true, syn: false } },
        { knocks: knocks('3000'), tcpFlags: {} },
      ],
      local,
    );
    expect(
      await passes(filter, {
        'SYN 1000': v4(SYN, 1000),
        'FIN 1000': v4(FIN, 1000),
        'SYN 2000': v4(SYN, 2000),
        'FIN 2000': v4(FIN, 2000),
        'SYN|FIN 2000': v4(SYN | FIN, 2000),
        'ACK 3000': v4(ACK, 3000),
      }),
    ).toEqual(['SYN 1000', 'FIN 2000', 'ACK 3000']);
  });

  it("watches a door's Target instead of the local addresses, in the Target's family only", async () => {
    const filter = buildFilter(
      [
        { knocks: knocks('5000'), tcpFlags: {}, target: '198.51.100.7' },
        { knocks: knocks('6000'), tcpFlags: {}, target: '2001:db8:1::7' },
        { knocks: knocks('7000'), tcpFlags: {} },
      ],
      local,
    );
    expect(
      await passes(filter, {
        '5000 to target': v4(SYN, 5000, '198.51.100.7'),
        '5000 to local': v4(SYN, 5000),
        '6000 to v6 target': v6(SYN, 6000, '2001:db8:1::7'),
        '6000 to v6 local': v6(SYN, 6000),
        '7000 to local': v4(SYN, 7000),
        '7000 to target': v4(SYN, 7000, '198.51.100.7'),
      }),
    ).toEqual(['5000 to target', '6000 to v6 target', '7000 to local']);
  });

  it('watches every local address, and no IPv6 with ipv4Only', async () => {
    const addresses = { v4: ['192.0.2.2', '198.51.100.2'], v6: ['2001:db8::2', 'fe80::1'] };
    const door = { knocks: knocks('1228'), tcpFlags: {} };
    const packets = {
      'v4 a': v4(SYN, 1228),
      'v4 b': v4(SYN, 1228, '198.51.100.2'),
      'v6 a': v6(SYN, 1228),
      'v6 link-local': v6(SYN, 1228, 'fe80::1'),
    };
    expect(await passes(buildFilter([door], addresses), packets)).toEqual(Object.keys(packets));
    expect(await passes(buildFilter([door], addresses, { ipv4Only: true }), packets)).toEqual([
      'v4 a',
      'v4 b',
    ]);
  });

  it('follows the knocks it is given (a one-time sequence rotating)', async () => {
    const before = buildFilter([{ knocks: knocks('1111,2222'), tcpFlags: {} }], local);
    const after = buildFilter([{ knocks: knocks('3333,4444'), tcpFlags: {} }], local);
    const packets = { '1111': v4(SYN, 1111), '3333': v4(SYN, 3333), 'v6 4444': v6(SYN, 4444) };
    expect(await passes(before, packets)).toEqual(['1111']);
    expect(await passes(after, packets)).toEqual(['3333', 'v6 4444']);
  });

  it('matches nothing (and is not empty) when no door can be knocked', async () => {
    const filter = buildFilter([{ knocks: [], tcpFlags: {} }], local);
    expect(filter).toBe(NO_PACKETS_FILTER);
    expect(buildFilter([], local)).toBe(NO_PACKETS_FILTER);
    expect(await passes(filter, { any: v4(SYN, 1), udp: ipv6(udp()) })).toEqual([]);
  });

  it('compiles a large config (50 doors, 4 ports each, many addresses)', async () => {
    const doors = Array.from({ length: 50 }, (_, i) => ({
      knocks: knocks(`${1000 + i},${2000 + i}:udp,${3000 + i},${4000 + i}`),
      tcpFlags: i % 2 ? { syn: true, ack: false } : {},
      name: `door${i}`,
    }));
    const many = {
      v4: Array.from({ length: 8 }, (_, i) => `192.0.2.${i + 2}`),
      v6: Array.from({ length: 4 }, (_, i) => `2001:db8::${i + 2}`),
    };
    const filter = buildFilter(doors, many);
    expect(await passes(filter, { hit: v4(SYN, 3049, '192.0.2.9'), miss: v4(SYN, 5000) })).toEqual([
      'hit',
    ]);
  });

  it('explains a door with nothing to watch', () => {
    const door = { knocks: knocks('1228'), tcpFlags: {}, name: 'ssh' };
    expect(() => buildFilter([door], { v4: [], v6: [] })).toThrow(
      expect.objectContaining({
        code: 'capture.noLocalAddress',
        message: expect.stringContaining('door "ssh"'),
      }),
    );
    expect(() => buildFilter([door], { v4: [], v6: ['2001:db8::2'] }, { ipv4Only: true })).toThrow(
      expect.objectContaining({ code: 'capture.noLocalAddress' }),
    );
    // A Target is enough without local addresses.
    expect(buildFilter([{ ...door, target: '192.0.2.5' }], { v4: [], v6: [] })).toContain(
      'dst host 192.0.2.5',
    );
    expect(() =>
      buildFilter([{ ...door, target: '2001:db8::5' }], local, { ipv4Only: true }),
    ).toThrow(expect.objectContaining({ code: 'capture.targetIpv6Only' }));
    let error: unknown;
    try {
      buildFilter([{ ...door, target: 'ssh.example.org' }], local);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KnockError);
    expect(error).toMatchObject({ code: 'capture.targetNotAddress' });
    expect((error as KnockError).hint).toBeDefined();
  });

  it('writes knockd-style clauses for IPv4 flags', () => {
    const filter = buildFilter(
      [{ knocks: knocks('7000,8000,9000'), tcpFlags: { syn: true, ack: false } }],
      { v4: ['127.0.0.1'], v6: [] },
    );
    expect(filter).toBe(
      '((dst host 127.0.0.1) and (((tcp dst port 7000 or tcp dst port 8000 or tcp dst port 9000) and tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0)))',
    );
  });
});
