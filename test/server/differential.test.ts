/**
 * Differential test: Debian's knockd 0.8 and knock-server, each in its own lab, run the
 * same config and receive the same packet scripts (Debian knock, hping3 with exact TCP
 * flags, nc for UDP, bash /dev/tcp, IPv4 and IPv6). The commands that fired, for whom,
 * must be the same, except where knock-server fixes a documented knockd bug
 * (README.md, "Differences from knockd 0.8"), which is asserted explicitly.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNetns } from '../helpers/describe.js';
import { createLab, waitFor, type Lab } from '../helpers/netns.js';
import {
  buildServer,
  serverLinkReady,
  play,
  record,
  startKnockServer,
  startKnockd,
  Workdir,
  type RunningDaemon,
  type Step,
} from '../helpers/daemon.js';

function configFor(work: Workdir): string {
  const door = (name: string, lines: string[]) =>
    [`[${name}]`, ...lines.map((l) => `  ${l}`), `  command = ${record(work, name)}`].join('\n');
  return [
    door('seq3', ['sequence = 7000,8000,9000', 'seq_timeout = 10', 'tcpflags = syn']),
    door('udp', ['sequence = 7100:udp,7200:udp,7300:udp', 'seq_timeout = 10']),
    door('mixed', ['sequence = 7400,7500:udp,7600', 'seq_timeout = 10']),
    door('one', ['sequence = 7700']),
    door('flags', ['sequence = 7800,7900', 'tcpflags = syn,!ack', 'seq_timeout = 10']),
    door('twice', ['sequence = 8100,8100', 'seq_timeout = 10']),
    door('short', ['sequence = 8200,8300', 'seq_timeout = 2']),
    '',
  ].join('\n');
}

/** Each scenario knocks from its own source address, so scenarios cannot disturb each other. */
const scripts = (lab: Lab): Step[] => {
  const [a, b, c, d, e, f, g, h, i] = lab.extraClient4 as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return [
    // Debian's knock client, IPv4 and IPv6.
    { knock: [lab.server4, '7000', '8000', '9000'] },
    { knock: ['-6', lab.server6, '7000', '8000', '9000'] },
    // Exact flags: a bare ACK does not count for a syn door (neither a step nor a reset).
    { tcp: 7000, src: a },
    { tcp: 8000, src: a, flags: 'A' },
    { tcp: 8000, src: a },
    { tcp: 9000, src: a },
    // Wrong order: nothing.
    { tcp: 7000, src: b },
    { tcp: 9000, src: b },
    { tcp: 8000, src: b },
    // Ports of no door in between: invisible.
    { tcp: 7000, src: c },
    { tcp: 1234, src: c },
    { udp: 4321, src: c },
    { tcp: 8000, src: c },
    { tcp: 9000, src: c },
    // UDP and mixed doors.
    { udp: 7100, src: d },
    { udp: 7200, src: d },
    { udp: 7300, src: d },
    { tcp: 7400, src: e },
    { udp: 7500, src: e },
    { tcp: 7600, src: e },
    // One port, by bash /dev/tcp (IPv6) and hping3.
    { devtcp: 7700, to: lab.server6 },
    { tcp: 7700, src: f, flags: 'SA' },
    // !ack: a SYN+ACK is ignored, a SYN counts.
    { tcp: 7800, src: g, flags: 'SA' },
    { tcp: 7800, src: g },
    { tcp: 7900, src: g, flags: 'SA' },
    { tcp: 7900, src: g },
    // A repeated port advances once per packet.
    { tcp: 8100, src: h },
    { tcp: 8100, src: h },
    // Too slow for a 2 s Seq_Timeout.
    { tcp: 8200, src: i },
    { sleep: 3100 },
    { tcp: 8300, src: i },
  ];
};

/** knockd 0.8 §4.1 bug 1: the first attempt of its list completes and every other one is lost. */
const concurrent = (lab: Lab): Step[] => {
  const [, , , , , , , , , j, k] = lab.extraClient4;
  return [
    { tcp: 7000, src: j! },
    { tcp: 7000, src: k! },
    { tcp: 8000, src: j! },
    { tcp: 9000, src: j! },
    { tcp: 8000, src: k! },
    { tcp: 9000, src: k! },
  ];
};

/** A retransmitted SYN (same source port, same sequence number): knockd 0.8 counts it as a wrong knock. */
const retransmitted = (lab: Lab): Step[] => {
  const r = lab.extraClient4[11]!;
  return [
    { tcp: 7000, src: r, sport: 40001, seqNo: 123456 },
    { tcp: 7000, src: r, sport: 40001, seqNo: 123456 },
    { tcp: 8000, src: r },
    { tcp: 9000, src: r },
  ];
};

const EXPECTED = (lab: Lab): string[] => {
  const [a, , c, d, e, f, g, h] = lab.extraClient4;
  return [
    `open seq3 ${lab.client4}`,
    `open seq3 ${lab.client6}`,
    `open seq3 ${a}`,
    `open seq3 ${c}`,
    `open udp ${d}`,
    `open mixed ${e}`,
    `open one ${lab.client6}`,
    `open one ${f}`,
    `open flags ${g}`,
    `open twice ${h}`,
  ].sort();
};

async function runAgainst(
  which: 'knockd' | 'knock-server',
): Promise<{ fired: string[]; lab: Lab; daemon: RunningDaemon; work: Workdir }> {
  const lab = await createLab({ extraClients: 12 });
  await serverLinkReady(lab);
  const work = new Workdir();
  const conf = work.write('knockd.conf', configFor(work));
  const args = ['-i', lab.serverIf, '-c', conf, '-v'];
  const daemon = which === 'knockd' ? startKnockd(lab, args) : startKnockServer(lab, args);
  try {
    await daemon.line(which === 'knockd' ? /^listening on / : /^starting up, listening on /);
    await play(lab, scripts(lab));
    await play(lab, concurrent(lab));
    await play(lab, retransmitted(lab));
    // Commands run asynchronously: wait (bounded) for every expected one, then a moment
    // for an unexpected extra one to show.
    const fired = () => work.lines('fired');
    await waitFor(() => EXPECTED(lab).every((l) => fired().includes(l)), 15_000);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await daemon.stop();
  }
  return { fired: work.lines('fired').sort(), lab, daemon, work };
}

describeNetns(`knockd 0.8 and knock-server fire the same commands`, () => {
  const cleanup: (() => Promise<void>)[] = [];
  let knockd: Awaited<ReturnType<typeof runAgainst>>;
  let ours: Awaited<ReturnType<typeof runAgainst>>;

  beforeAll(async () => {
    await buildServer();
    [knockd, ours] = await Promise.all([runAgainst('knockd'), runAgainst('knock-server')]);
    for (const run of [knockd, ours])
      cleanup.push(async () => {
        await run.lab.destroy();
        run.work.remove();
      });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(cleanup.map((c) => c()));
  });

  it('the same commands fired for the same sources (apart from the bug below)', () => {
    const withoutConcurrent = (fired: string[], lab: Lab) => {
      const fixes = lab.extraClient4.slice(9);
      return fired.filter((l) => !fixes.some((a) => l.endsWith(` ${a}`)));
    };
    expect(withoutConcurrent(knockd.fired, knockd.lab), knockd.daemon.lines.join('\n')).toEqual(
      EXPECTED(knockd.lab),
    );
    expect(withoutConcurrent(ours.fired, ours.lab), ours.daemon.lines.join('\n')).toEqual(
      EXPECTED(ours.lab),
    );
  });

  it('documented fix: a source finishing never drops another source mid-sequence', () => {
    const [, , , , , , , , , j, k] = knockd.lab.extraClient4;
    const kd = knockd.daemon.lines.join('\n');
    const us = ours.daemon.lines.join('\n');
    expect(knockd.fired, kd).toContain(`open seq3 ${j}`);
    expect(knockd.fired, kd).not.toContain(`open seq3 ${k}`); // knockd 0.8 lost it
    expect(ours.fired, us).toContain(`open seq3 ${j}`);
    expect(ours.fired, us).toContain(`open seq3 ${k}`);
  });

  it('documented fix: a retransmitted SYN is not a wrong knock', () => {
    const r = knockd.lab.extraClient4[11];
    expect(knockd.fired).not.toContain(`open seq3 ${r}`); // knockd 0.8 reset the attempt
    expect(ours.fired).toContain(`open seq3 ${ours.lab.extraClient4[11]}`);
  });

  it('both logged the same texts for the same events', () => {
    const texts = (d: RunningDaemon) =>
      d.lines.filter(
        (l) => /: (Stage \d+|OPEN SESAME)$/.test(l) && l.startsWith(`${knockd.lab.client4}:`),
      );
    expect(texts(ours.daemon)).toEqual(texts(knockd.daemon));
    expect(texts(ours.daemon)).toEqual([
      '192.0.2.1: seq3: Stage 1',
      '192.0.2.1: seq3: Stage 2',
      '192.0.2.1: seq3: Stage 3',
      '192.0.2.1: seq3: OPEN SESAME',
    ]);
  });
});
