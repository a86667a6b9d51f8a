/**
 * What `knock` puts on the wire, seen by tcpdump in the server namespace: one SYN per
 * TCP knock (never a retransmission, also when the port drops the SYN), one 1-byte
 * datagram per UDP knock, in order, -d spacing, and family `any` reaching both the
 * IPv4 and the IPv6 address of a name.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeNetns } from '../helpers/describe.js';
import { createLab, waitFor, type Lab } from '../helpers/netns.js';
import {
  capture,
  ensureBuilt,
  hostsEntry,
  knockIn,
  sleep,
  type Capture,
  type Packet,
} from '../helpers/lab-tools.js';

/**
 * Waits (bounded) until tcpdump has shown at least `count` of `seen()`, however slow the
 * machine, then `settleMs` more so that an extra packet (a retransmission: Linux resends an
 * unanswered SYN after 1 s, then 3 s) would show too. The exact checks come after.
 */
async function captured(
  cap: Capture,
  seen: (cap: Capture) => Packet[],
  count: number,
  settleMs: number,
): Promise<void> {
  await waitFor(() => seen(cap).length >= count, 15_000);
  await sleep(settleMs);
}

describeNetns(`knock on the wire`, () => {
  let lab: Lab;
  let cap: Capture | undefined;
  let removeHosts: (() => void) | undefined;
  const name = () => `knock-lab-${lab.id}.test`;

  beforeAll(async () => {
    await ensureBuilt();
    lab = await createLab();
    removeHosts = hostsEntry(lab.client, name(), [lab.server6, lab.server4]);
    // Ports 2000-2999 drop everything silently: no RST, no ICMP, so a client that
    // waited for an answer would retransmit.
    await lab.server.sh(
      'nft add table inet lab && ' +
        "nft 'add chain inet lab input { type filter hook input priority 0; policy accept; }' && " +
        'nft add rule inet lab input tcp dport 2000-2999 drop && ' +
        'nft add rule inet lab input udp dport 2000-2999 drop',
    );
  });
  afterEach(async () => {
    await cap?.stop();
    cap = undefined;
  });
  afterAll(async () => {
    removeHosts?.();
    await lab?.destroy();
  });

  it('one SYN per TCP knock, in order, to ports that answer with RST', async () => {
    cap = await capture(lab);
    const result = await knockIn(lab.client, [lab.server4, '1228', '1227', '1226', '1228']);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    await captured(cap, (c) => c.syns(), 4, 500);
    expect(cap.syns().map((p) => `${p.dst}:${p.dport}`)).toEqual([
      '192.0.2.2:1228',
      '192.0.2.2:1227',
      '192.0.2.2:1226',
      '192.0.2.2:1228',
    ]);
  });

  it('one SYN per TCP knock when the ports silently drop packets, for several seconds', async () => {
    cap = await capture(lab);
    const started = Date.now();
    const result = await knockIn(lab.client, ['-v', lab.server4, '2001', '2002', '2003']);
    const took = Date.now() - started;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'hitting tcp 192.0.2.2:2001\nhitting tcp 192.0.2.2:2002\nhitting tcp 192.0.2.2:2003\n',
    );
    // It does not wait for an answer that never comes.
    expect(took).toBeLessThan(3000);
    // Linux would retransmit an unanswered SYN after 1 s, 3 s, 7 s…
    await captured(cap, (c) => c.syns(), 3, 3500);
    expect(cap.syns().map((p) => p.dport)).toEqual([2001, 2002, 2003]);
    expect(cap.packets().filter((p) => p.proto === 'tcp')).toHaveLength(3);
  });

  it('one SYN per knock also while knock stays alive (--verify waits 3 s)', async () => {
    cap = await capture(lab);
    const result = await knockIn(lab.client, [
      lab.server4,
      '2017',
      '2018',
      '--verify',
      '2222',
      '--timeout',
      '3',
    ]);
    expect(result.code).toBe(7);
    await captured(cap, (c) => c.syns().filter((p) => p.dport !== 2222), 2, 1500);
    const knocks = cap.syns().filter((p) => p.dport !== 2222);
    expect(knocks.map((p) => p.dport)).toEqual([2017, 2018]);
    // The probes of the verified port came after the knocks.
    const firstProbe = cap.syns().find((p) => p.dport === 2222);
    expect(firstProbe?.time).toBeGreaterThan(knocks[1]?.time ?? Infinity);
  });

  it('the same over IPv6 (-6), to dropping ports', async () => {
    cap = await capture(lab);
    const result = await knockIn(lab.client, ['-6', lab.server6, '2004', '2005']);
    expect(result.code).toBe(0);
    await captured(cap, (c) => c.syns(), 2, 3500);
    expect(cap.syns().map((p) => `${p.dst}:${p.dport}`)).toEqual([
      '2001:db8::2:2004',
      '2001:db8::2:2005',
    ]);
  });

  it('one datagram with a 1-byte payload per UDP knock, mixed with TCP in order', async () => {
    cap = await capture(lab);
    const result = await knockIn(lab.client, [
      lab.server4,
      '41000:udp',
      '2006',
      '2007:udp',
      '41001:udp',
    ]);
    expect(result.code).toBe(0);
    await captured(cap, (c) => c.packets(), 4, 1500);
    expect(
      cap
        .packets()
        .map(
          (p) =>
            `${p.proto} ${p.dport}${p.proto === 'udp' ? ` length ${p.detail}` : ` [${p.detail}]`}`,
        ),
    ).toEqual(['udp 41000 length 1', 'tcp 2006 [S]', 'udp 2007 length 1', 'udp 41001 length 1']);
  });

  it('-u makes every knock UDP', async () => {
    cap = await capture(lab);
    expect((await knockIn(lab.client, ['-u', lab.server4, '2008', '2009:tcp'])).code).toBe(0);
    await captured(cap, (c) => c.packets(), 2, 500);
    expect(cap.packets().map((p) => `${p.proto} ${p.dport} ${p.detail}`)).toEqual([
      'udp 2008 1',
      'udp 2009 1',
    ]);
  });

  it('-d spaces the knocks', async () => {
    cap = await capture(lab);
    const result = await knockIn(lab.client, [
      '-d',
      '300',
      lab.server4,
      '2010',
      '2011',
      '2012:udp',
    ]);
    expect(result.code).toBe(0);
    await captured(cap, (c) => c.packets(), 3, 500);
    const times = cap.packets().map((p) => p.time);
    expect(times).toHaveLength(3);
    for (let i = 1; i < times.length; i++) {
      const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
      expect(gap).toBeGreaterThanOrEqual(0.29);
      expect(gap).toBeLessThan(0.6);
    }
  });

  it('family any knocks every address of the name, each with the whole sequence in order', async () => {
    cap = await capture(lab);
    const result = await knockIn(lab.client, ['-v', name(), '2013', '2014:udp', '2015']);
    expect(result.code).toBe(0);
    await captured(cap, (c) => c.packets(), 6, 1500);
    const seen = cap.packets().map((p) => `${p.dst} ${p.proto} ${p.dport}`);
    const v4 = seen.filter((s) => s.startsWith('192.0.2.2 '));
    const v6 = seen.filter((s) => s.startsWith('2001:db8::2 '));
    expect(v4).toEqual(['192.0.2.2 tcp 2013', '192.0.2.2 udp 2014', '192.0.2.2 tcp 2015']);
    expect(v6).toEqual(['2001:db8::2 tcp 2013', '2001:db8::2 udp 2014', '2001:db8::2 tcp 2015']);
    expect(seen).toHaveLength(6);
    // One address after the other (not interleaved).
    expect(new Set(seen.slice(0, 3).map((s) => s.split(' ')[0])).size).toBe(1);
    // -4 / -6 restrict it to one family.
    const only4 = await knockIn(lab.client, ['-v', '-4', name(), '2016']);
    expect(only4.stdout).toBe('hitting tcp 192.0.2.2:2016\n');
    const only6 = await knockIn(lab.client, ['-v', '-6', name(), '2016']);
    expect(only6.stdout).toBe('hitting tcp [2001:db8::2]:2016\n');
  });

  it('an address with no route: ExitCode.network, one line, no stack', async () => {
    const result = await knockIn(lab.client, ['198.51.100.7', '1228']);
    expect(result.code).toBe(6);
    expect(result.stderr).toBe(
      'knock: cannot send to 198.51.100.7:1228: network unreachable (no route) (ENETUNREACH)\n' +
        '  hint: check your network connection, or choose another address family (-4 / -6)\n',
    );
  });

  it('a name that does not resolve: ExitCode.resolve', async () => {
    const result = await knockIn(lab.client, [`nx-${lab.id}.invalid`, '1228']);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`knock: cannot resolve host "nx-${lab.id}.invalid"`);
  });

  it('--verify: exit 7 when the port stays closed (dropped), 0 when it is open', async () => {
    const closed = await knockIn(lab.client, [
      lab.server4,
      '1228',
      '--verify',
      '2222',
      '--timeout',
      '1',
    ]);
    expect(closed.code).toBe(7);
    expect(closed.stderr).toContain(
      'knocked 192.0.2.2, but 192.0.2.2:2222 is still closed after 1 s (no answer)',
    );
    const listener = lab.server.spawn(['nc', '-l', '-k', lab.server4, '3333']);
    try {
      // Listening before the knock (--verify would wait for it, but that is not the test).
      const listening = async () =>
        (await lab.server.exec(['ss', '-Hltn', 'sport = :3333'])).stdout.includes(':3333');
      expect(await waitFor(listening, 10_000)).toBe(true);
      const open = await knockIn(lab.client, [lab.server4, '1228', '--verify', '3333']);
      expect(open.code).toBe(0);
      expect(open.stdout).toMatch(/^port 3333 is open on 192\.0\.2\.2 \(after [\d.]+ s\)\n$/);
    } finally {
      listener.kill();
    }
  });
});
