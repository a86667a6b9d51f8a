/**
 * Proof that knock's cap patch is active on real packets: cap captures 256 bytes of a
 * big packet by default (stock cap: 65,535), so the kernel ring survives an event-loop
 * pause that a 64 KiB snaplen does not.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNetns } from '../helpers/describe.js';
import { createLab, waitFor, type Lab } from '../helpers/netns.js';
import { startProbe, type Probe } from './helpers/probe.js';

/** Sends argv[3] UDP datagrams of argv[4] bytes to argv[1]:argv[2], as fast as it can. */
const PY_BURST = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
payload = b'k' * int(sys.argv[4])
for _ in range(int(sys.argv[3])):
    s.sendto(payload, (sys.argv[1], int(sys.argv[2])))
`;

/** Sends a datagram of argv[4] bytes to argv[1]:argv[2] every argv[5] s, at most argv[3] times. */
const PY_PACED = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b'k' * int(sys.argv[4])
for _ in range(int(sys.argv[3])):
    s.sendto(payload, (sys.argv[1], int(sys.argv[2])))
    sys.stdout.write('sent\\n')
    sys.stdout.flush()
    time.sleep(float(sys.argv[5]))
`;

describeNetns(`cap patch on real packets`, () => {
  let lab: Lab;
  const probes: Probe[] = [];

  beforeAll(async () => {
    lab = await createLab();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(probes.map((p) => p.stop()));
    await lab?.destroy();
  });

  const burst = (count: number, size: number, port = 9000) =>
    lab.client.exec([
      'python3',
      '-c',
      PY_BURST,
      lab.server4,
      String(port),
      String(count),
      String(size),
    ]);

  const rxPackets = async () =>
    (
      await lab.server.exec(['cat', `/sys/class/net/${lab.serverIf}/statistics/rx_packets`])
    ).stdout.trim();

  it('captures at most 256 bytes of a 1,442-byte frame by default', async () => {
    const probe = startProbe(lab.server);
    probes.push(probe);
    const reply = await probe.call('raw', { device: lab.serverIf, filter: 'udp dst port 9000' });
    expect(reply.snaplen).toBe(256);
    // The handle is open and filtering once 'raw' replied (cap's open is synchronous), so
    // nothing is sent too early, and a datagram shows within a millisecond or two even on a
    // loaded machine. But one lone datagram can be lost (the per-CPU backlog that every
    // namespace's veth shares overflows under another process's flood), and then no wait
    // is long enough. So one datagram every 0.5 s until the capture reports one: at most
    // 40 (20 s), stopped at the first seen; a failure says whether the interface got them.
    const rxBefore = await rxPackets();
    const sender = lab.client.spawn([
      'python3',
      '-c',
      PY_PACED,
      lab.server4,
      '9000',
      '40',
      '1400',
      '0.5',
    ]);
    let sent = 0;
    sender.stdout?.on('data', (d: Buffer) => (sent += d.toString().split('sent').length - 1));
    const seen = await waitFor(() => probe.raw.length > 0, 25_000, 20);
    sender.kill('SIGKILL');
    const rxAfter = await rxPackets();
    expect(
      seen,
      `nothing captured of ${sent} datagrams (the server's interface received ${Number(rxAfter) - Number(rxBefore)} packets meanwhile); probe ${probe.state()}`,
    ).toBe(true);
    expect(probe.raw[0]).toMatchObject({
      nbytes: 256,
      wireLength: 14 + 20 + 8 + 1400,
      truncated: false,
    });
    await probe.stop();
  });

  it('loses nothing while the event loop stalls for 2 s under a 3,000-packet burst', async () => {
    const probe = startProbe(lab.server);
    probes.push(probe);
    await probe.call('open', {
      options: {
        interfaces: [lab.serverIf],
        filter: 'udp dst port 9000',
        bufferSize: 2 * 1024 * 1024,
      },
    });
    await probe.call('block', { ms: 2000 });
    const sent = await burst(3000, 200);
    expect(sent.code).toBe(0);
    await waitFor(() => probe.unblocked === 1 && probe.events.length >= 3000, 30_000);
    expect(probe.events).toHaveLength(3000);
    const { stats } = (await probe.call('stats')) as unknown as {
      stats: { received: number; dropped: number };
    };
    expect(stats).toEqual({ received: 3000, dropped: 0 });
    await probe.stop();
  });

  it('with a 64 KiB snaplen (what stock cap uses) the same stall drops most of the burst', async () => {
    const probe = startProbe(lab.server);
    probes.push(probe);
    await probe.call('open', {
      options: {
        interfaces: [lab.serverIf],
        filter: 'udp dst port 9000',
        bufferSize: 2 * 1024 * 1024,
        snaplen: 65535,
      },
    });
    await probe.call('block', { ms: 2000 });
    await burst(3000, 200);
    await waitFor(() => probe.unblocked === 1, 10_000);
    const { stats } = (await probe.call('stats')) as unknown as {
      stats: { received: number; dropped: number };
    };
    expect(stats.dropped).toBeGreaterThan(2000);
    expect(probe.events.length).toBeLessThan(1000);
    await probe.stop();
  });
});
