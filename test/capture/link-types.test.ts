/**
 * The link types a real deployment meets: `-i any` (Linux cooked SLL, and SLL2 when
 * asked for), a VLAN sub-interface, its parent carrying tagged frames, and several
 * interfaces in one capture (`-i a,b`).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNetns } from '../helpers/describe.js';
import { parseSequence } from '@knock/shared';
import { buildFilter } from '../../server/src/capture/filter.js';
import { LinkTypes } from '../../server/src/capture/decode.js';
import { createLab, type Lab } from '../helpers/netns.js';
import { startProbe, type Probe } from './helpers/probe.js';

const SYN = 0x02;
const door = { knocks: parseSequence('1228,1227:udp').knocks, tcpFlags: { syn: true } };
const syn = (host: string, port: number) => ['bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`];

/** Sends one Ethernet frame: broadcast, 802.1Q tag 100, IPv4 192.0.2.77 → argv[2], TCP SYN 43210 → 1228, seq 99. */
const PY_TAGGED_SYN = `
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s > 0xffff: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
src, dst = socket.inet_aton('192.0.2.77'), socket.inet_aton(sys.argv[2])
tcp = struct.pack('!HHIIBBHHH', 43210, 1228, 99, 0, 5 << 4, 0x02, 1024, 0, 0)
tcp = tcp[:16] + struct.pack('!H', csum(src + dst + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)) + tcp[18:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
frame = b'\\xff' * 6 + bytes.fromhex('020000000077') + struct.pack('!HHH', 0x8100, 100, 0x0800) + ip + tcp
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
s.send(frame)
`;

describeNetns(`capture link types`, () => {
  let lab: Lab;
  const probes: Probe[] = [];
  const vlanClient = '198.51.100.1';
  const vlanServer = '198.51.100.2';

  /** Why this kernel cannot make VLAN sub-interfaces (no CONFIG_VLAN_8021Q), if it cannot. */
  let noVlan: string | undefined;

  beforeAll(async () => {
    lab = await createLab();
    // VLAN 100 on top of the veth, with its own addresses.
    const made = await lab.client.exec([
      'sh',
      '-c',
      `ip link add link ${lab.clientIf} name ${lab.clientIf}.100 type vlan id 100 && ip addr add ${vlanClient}/24 dev ${lab.clientIf}.100 && ip link set ${lab.clientIf}.100 up`,
    ]);
    if (made.code !== 0) noVlan = `this kernel has no 802.1Q support (${made.stderr.trim()})`;
    else
      await lab.server.sh(
        `ip link add link ${lab.serverIf} name ${lab.serverIf}.100 type vlan id 100 && ip addr add ${vlanServer}/24 dev ${lab.serverIf}.100 && ip link set ${lab.serverIf}.100 up`,
      );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(probes.map((p) => p.stop()));
    await lab?.destroy();
  });

  const open = async (interfaces: string[], extra: Record<string, unknown> = {}) => {
    const probe = startProbe(lab.server);
    probes.push(probe);
    const local = { v4: [lab.server4, vlanServer], v6: [lab.server6] };
    const reply = await probe.call('open', {
      options: { interfaces, filter: buildFilter([door], local), ...extra },
    });
    return { probe, linkTypes: reply.linkTypes };
  };

  it('works on `any` with Linux cooked headers (SLL), IPv4 and IPv6', async () => {
    const { probe, linkTypes } = await open(['any']);
    expect(linkTypes).toEqual({ any: LinkTypes.LINUX_SLL });
    await lab.client.exec(syn(lab.server4, 1228));
    await lab.client.exec(['knock', '-6', '-u', lab.server6, '1227']);
    expect(await probe.event((e) => e.dstPort === 1228)).toMatchObject({
      family: 4,
      src: lab.client4,
      dst: lab.server4,
      flags: SYN,
    });
    expect(await probe.event((e) => e.dstPort === 1227)).toMatchObject({
      family: 6,
      src: lab.client6,
      protocol: 'udp',
    });
    await probe.stop();
  });

  it('works on `any` with SLL2 headers when asked for them', async () => {
    const { probe, linkTypes } = await open(['any'], { linkType: LinkTypes.LINUX_SLL2 });
    expect(linkTypes).toEqual({ any: LinkTypes.LINUX_SLL2 });
    await lab.client.exec(syn(lab.server6, 1228));
    expect(await probe.event((e) => e.dstPort === 1228)).toMatchObject({
      family: 6,
      src: lab.client6,
      dst: lab.server6,
      flags: SYN,
    });
    await probe.stop();
  });

  it('decodes 802.1Q-tagged frames arriving on an interface', async () => {
    // Tagged frames written by hand on the client's veth (AF_PACKET), so this runs even
    // where the kernel cannot make VLAN interfaces. The kernel moves the tag out of the
    // frame before the filter runs; libpcap puts it back, and the decoder walks it.
    const { probe } = await open([lab.serverIf]);
    const sent = await lab.client.exec(['python3', '-c', PY_TAGGED_SYN, lab.clientIf, lab.server4]);
    expect(sent.stderr).toBe('');
    expect(await probe.event((e) => e.dstPort === 1228)).toEqual({
      time: expect.any(Number),
      family: 4,
      src: '192.0.2.77',
      dst: lab.server4,
      protocol: 'tcp',
      srcPort: 43210,
      dstPort: 1228,
      flags: SYN,
      seq: 99,
    });
    await probe.stop();
  });

  it('captures on a VLAN sub-interface and on its parent (tagged frames) at once', async (ctx) => {
    if (noVlan) ctx.skip(noVlan);
    const sub = `${lab.serverIf}.100`;
    const { probe, linkTypes } = await open([lab.serverIf, sub]);
    expect(linkTypes).toEqual({ [lab.serverIf]: LinkTypes.EN10MB, [sub]: LinkTypes.EN10MB });
    await lab.client.exec(syn(vlanServer, 1228));
    const fromVlan = (e: { src: string; dstPort: number }) =>
      e.src === vlanClient && e.dstPort === 1228;
    // One SYN, seen once by each handle: untagged on the sub-interface, tagged on the parent.
    await probe.event(fromVlan);
    await expect.poll(() => probe.events.filter(fromVlan).length, { timeout: 5000 }).toBe(2);
    for (const e of probe.events.filter(fromVlan))
      expect(e).toMatchObject({ family: 4, dst: vlanServer, protocol: 'tcp', flags: SYN });
    // Untagged traffic still reaches the parent's handle only.
    probe.clear();
    await lab.client.exec(syn(lab.server4, 1228));
    await probe.event((e) => e.src === lab.client4);
    await lab.client.exec(syn(vlanServer, 1228)); // a marker that both handles see
    await expect.poll(() => probe.events.filter(fromVlan).length, { timeout: 5000 }).toBe(2);
    expect(probe.events.filter((e) => e.src === lab.client4)).toHaveLength(1);
    await probe.stop();
  });
});
