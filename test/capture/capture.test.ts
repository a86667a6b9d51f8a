/**
 * Real packets through the real capture: libpcap (patched cap) on the server veth of a
 * lab, a filter from buildFilter, knocks sent from the client namespace by bash
 * /dev/tcp, nc, hping3 (exact flags), Debian's `knock` and Python (an IPv6 SYN with a
 * destination-options header).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNetns } from '../helpers/describe.js';
import { parseSequence } from '@knock/shared';
import { buildFilter, type FilterDoor } from '../../server/src/capture/filter.js';
import { LinkTypes } from '../../server/src/capture/decode.js';
import type { KnockEvent } from '../../server/src/capture/packet-source.js';
import { createLab, waitFor, type Lab } from '../helpers/netns.js';
import { startProbe, type Probe } from './helpers/probe.js';

const SYN = 0x02;
const FIN = 0x01;
const ACK = 0x10;
const PSH = 0x08;
const URG = 0x20;

const doors: FilterDoor[] = [
  { name: 'mixed', knocks: parseSequence('1228,1227,5353:udp').knocks, tcpFlags: {} },
  { name: 'syn-only', knocks: parseSequence('2000').knocks, tcpFlags: { syn: true, ack: false } },
];

/** One SYN from the client's kernel: bash's /dev/tcp connect (refused, which is fine). */
const bashSyn = (host: string, port: number) => ['bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`];

/** A TCP SYN over IPv6 carrying an 8-byte destination-options header (PadN). */
const PY_DSTOPTS_SYN = `
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, bytes([0, 0, 1, 4, 0, 0, 0, 0]))
s.settimeout(2)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except OSError:
    pass
`;

describeNetns(`capture on a veth`, () => {
  let lab: Lab;
  let probe: Probe;

  beforeAll(async () => {
    lab = await createLab();
    probe = startProbe(lab.server);
    const local = { v4: [lab.server4], v6: [lab.server6] };
    const reply = await probe.call('open', {
      options: { interfaces: [lab.serverIf], filter: buildFilter(doors, local) },
    });
    expect(reply.linkTypes).toEqual({ [lab.serverIf]: LinkTypes.EN10MB });
  }, 60_000);

  afterAll(async () => {
    await probe?.stop();
    await lab?.destroy();
  });

  const from = (e: KnockEvent, port: number, protocol = 'tcp') =>
    e.dstPort === port && e.protocol === protocol;

  it('decodes IPv4 knocks from bash, nc, hping3 and Debian knock, with capture timestamps', async () => {
    probe.clear();
    const before = Date.now();
    await lab.client.exec(bashSyn(lab.server4, 1228));
    await lab.client.exec(['nc', '-z', '-w1', lab.server4, '1227']);
    await lab.client.exec(['knock', lab.server4, '5353:udp']);
    await lab.client.exec([
      'hping3',
      '-q',
      '-c',
      '1',
      '-S',
      '-s',
      '41000',
      '-M',
      '123456',
      '-p',
      '2000',
      lab.server4,
    ]);
    const bash = await probe.event((e) => from(e, 1228));
    expect(bash).toMatchObject({
      family: 4,
      src: lab.client4,
      dst: lab.server4,
      protocol: 'tcp',
      dstPort: 1228,
      flags: SYN,
    });
    expect(bash.time).toBeGreaterThanOrEqual(before - 5);
    expect(bash.time).toBeLessThanOrEqual(Date.now() + 5);
    expect(await probe.event((e) => from(e, 1227))).toMatchObject({ flags: SYN, src: lab.client4 });
    expect(await probe.event((e) => from(e, 5353, 'udp'))).toMatchObject({
      family: 4,
      src: lab.client4,
      protocol: 'udp',
      flags: 0,
      seq: 0,
    });
    expect(await probe.event((e) => from(e, 2000))).toEqual({
      time: expect.any(Number),
      family: 4,
      src: lab.client4,
      dst: lab.server4,
      protocol: 'tcp',
      srcPort: 41000,
      dstPort: 2000,
      flags: SYN,
      seq: 123456,
    });
  });

  it('keeps out ports in no door and, for IPv4, flags the door does not want', async () => {
    probe.clear();
    await lab.client.exec(['nc', '-z', '-w1', lab.server4, '22']);
    await lab.client.exec(['hping3', '-q', '-c', '1', '-S', '-p', '9999', lab.server4]);
    await lab.client.exec(['hping3', '-q', '-c', '1', '-S', '-A', '-p', '2000', lab.server4]); // syn-only door: SYN|ACK filtered
    await lab.client.exec(['knock', '-u', lab.server4, '1228']); // UDP to a TCP step
    // A door without TCPFlags sees any flags: FIN|PSH|URG to 1228 comes through, and marks the end.
    await lab.client.exec(['hping3', '-q', '-c', '1', '-F', '-P', '-U', '-p', '1228', lab.server4]);
    await probe.event((e) => from(e, 1228) && e.flags === (FIN | PSH | URG));
    expect(probe.events.map((e) => `${e.protocol}/${e.dstPort}/${e.flags}`)).toEqual([
      `tcp/1228/${FIN | PSH | URG}`,
    ]);
  });

  it('decodes IPv6 knocks, including one behind a destination-options header', async () => {
    probe.clear();
    await lab.client.exec(bashSyn(lab.server6, 1228));
    await lab.client.exec(['nc', '-6', '-z', '-w1', lab.server6, '1227']);
    await lab.client.exec(['knock', '-6', '-u', lab.server6, '5353']);
    await lab.client.exec(['python3', '-c', PY_DSTOPTS_SYN, lab.server6, '2000']);
    const v6 = { family: 6, src: lab.client6, dst: lab.server6 };
    expect(await probe.event((e) => from(e, 1228))).toMatchObject({ ...v6, flags: SYN });
    expect(await probe.event((e) => from(e, 1227))).toMatchObject({ ...v6, flags: SYN });
    expect(await probe.event((e) => from(e, 5353, 'udp'))).toMatchObject({
      ...v6,
      protocol: 'udp',
    });
    // Port 2000's door wants SYN without ACK: for IPv6 the filter leaves flags to the detector.
    expect(await probe.event((e) => from(e, 2000))).toMatchObject({ ...v6, flags: SYN });
  });

  it('delivers IPv6 segments whatever their flags (the detector checks them), but not other ports', async () => {
    probe.clear();
    await lab.client.exec(['nc', '-6', '-z', '-w1', lab.server6, '22']);
    // An IPv6 ACK to port 2000 (syn-only door) from a raw socket: the filter lets it through.
    await lab.client.exec([
      'python3',
      '-c',
      `
import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
hdr = struct.pack('!HHIIBBHHH', 42000, 2000, 7, 0, 5 << 4, ${ACK}, 1024, 0, 0)
s.setsockopt(socket.IPPROTO_IPV6, 7, 16)  # IPV6_CHECKSUM at offset 16: the kernel fills it in
s.sendto(hdr, (sys.argv[1], 0))
`,
      lab.server6,
    ]);
    expect(await probe.event((e) => from(e, 2000))).toMatchObject({
      family: 6,
      srcPort: 42000,
      flags: ACK,
      seq: 7,
    });
    expect(probe.events.some((e) => e.dstPort === 22)).toBe(false);
  });

  it('replaces the filter in place, and refuses a bad one without losing the old', async () => {
    probe.clear();
    const local = { v4: [lab.server4], v6: [lab.server6] };
    const next = buildFilter([{ knocks: parseSequence('4444').knocks, tcpFlags: {} }], local);
    await probe.call('setFilter', { filter: next });
    await lab.client.exec(bashSyn(lab.server4, 1228)); // no longer a door port
    await lab.client.exec(bashSyn(lab.server4, 4444));
    await probe.event((e) => from(e, 4444));
    await expect(probe.call('setFilter', { filter: 'tcp dst port' })).rejects.toMatchObject({
      code: 'capture.badFilter',
    });
    await lab.client.exec(bashSyn(lab.server6, 4444));
    await probe.event((e) => from(e, 4444) && e.family === 6);
    expect(probe.events.map((e) => e.dstPort)).toEqual([4444, 4444]);
    await probe.call('setFilter', { filter: buildFilter(doors, local) });
  });

  it('counts packets with pcap_stats and drops none', async () => {
    const { stats } = (await probe.call('stats')) as unknown as {
      stats: { received: number; dropped: number };
    };
    expect(stats.received).toBeGreaterThanOrEqual(10);
    expect(stats.dropped).toBe(0);
  });

  it('reads the server interface addresses inside its namespace', async () => {
    const { addresses } = (await probe.call('localAddresses', {
      interfaces: [lab.serverIf],
    })) as unknown as { addresses: { v4: string[]; v6: string[] } };
    expect(addresses.v4).toEqual([lab.server4]);
    expect(addresses.v6).toContain(lab.server6);
    expect(addresses.v6.every((a) => !a.includes('%'))).toBe(true);
  });

  it('notices an address added to the interface (a new DHCP lease) and only then', async () => {
    await probe.call('watch', { interfaces: [lab.serverIf], ms: 100 });
    await new Promise((r) => setTimeout(r, 400));
    expect(probe.addresses).toEqual([]);
    await lab.server.sh(`ip addr add 192.0.2.3/24 dev ${lab.serverIf}`);
    await waitFor(() => probe.addresses.length > 0, 5000);
    expect(probe.addresses[0]!.v4).toEqual([lab.server4, '192.0.2.3']);
    await lab.server.sh(`ip addr del 192.0.2.3/24 dev ${lab.serverIf}`);
    await waitFor(() => probe.addresses.length > 1, 5000);
    expect(probe.addresses[1]!.v4).toEqual([lab.server4]);
    expect(probe.addresses).toHaveLength(2);
  });
});
