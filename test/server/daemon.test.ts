/**
 * The built knock-server, for real, in a lab's server namespace: real packets from
 * Debian's knock, nc, bash /dev/tcp and hping3, over IPv4 and IPv6; timeouts, one-time
 * sequences until used up, SIGHUP mid-sequence, a bad config on reload, commands that
 * fail or hang, a log file on a full disk, SIGTERM.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNetns } from '../helpers/describe.js';
import { createLab, waitFor, type Lab } from '../helpers/netns.js';
import {
  buildServer,
  serverLinkReady,
  play,
  record,
  sleep,
  startKnockServer,
  Workdir,
  type RunningDaemon,
} from '../helpers/daemon.js';

function configText(work: Workdir, extra = ''): string {
  return `[options]
  LogFile = ${work.file('knockd.log')}

[seq]
  sequence    = 7000,8000,9000
  seq_timeout = 5
  tcpflags    = syn
  command     = ${record(work, 'seq')}

[udp]
  sequence = 7100:udp,7200:udp
  command  = ${record(work, 'udp')}

[mixed]
  sequence = 7300,7400:udp,7500
  command  = ${record(work, 'mixed')}

[one]
  sequence = 7600
  command  = ${record(work, 'one')}

[short]
  sequence    = 8200,8300
  seq_timeout = 1
  command     = ${record(work, 'short')}

[otp]
  one_time_sequences = ${work.file('otp')}
  command            = ${record(work, 'otp')}

[fails]
  sequence = 8500
  command  = echo broken >&2; exit 3

[hangs]
  sequence = 8600
  command  = sleep 3

[timed]
  sequence      = 8700
  start_command = ${record(work, 'timed', 'start')}
  cmd_timeout   = 1
  stop_command  = ${record(work, 'timed', 'stop')}
${extra}`;
}

describeNetns('knock-server in a network namespace', () => {
  let lab: Lab;
  let work: Workdir;
  let daemon: RunningDaemon;
  const fired = () => work.lines('fired');
  const hasFired = (line: string, ms = 5000) => waitFor(() => fired().includes(line), ms, 20);

  beforeAll(async () => {
    await buildServer();
    lab = await createLab({ extraClients: 9 });
    await serverLinkReady(lab);
    work = new Workdir();
    work.write('otp', ' 6001,6002\n 6003:udp,6004\n');
    const conf = work.write('knockd.conf', configText(work));
    daemon = startKnockServer(lab, ['-i', lab.serverIf, '-c', conf, '-v']);
    await daemon.line(`starting up, listening on ${lab.serverIf}`);
  }, 60_000);

  afterAll(async () => {
    await daemon?.stop();
    await lab?.destroy();
    work?.remove();
  });

  it("Debian's knock over IPv4 and IPv6; knockd's log file format, no blank lines", async () => {
    await play(lab, [
      { knock: [lab.server4, '7000', '8000', '9000'] },
      { knock: ['-6', lab.server6, '7000', '8000', '9000'] },
    ]);
    expect(await hasFired(`open seq ${lab.client4}`)).toBe(true);
    expect(await hasFired(`open seq ${lab.client6}`)).toBe(true);
    const log = work.read('knockd.log');
    for (const text of [
      `starting up, listening on ${lab.serverIf}`,
      `${lab.client4}: seq: Stage 1`,
      `${lab.client4}: seq: Stage 3`,
      `${lab.client4}: seq: OPEN SESAME`,
      `seq: running command: /bin/echo open seq ${lab.client4} >> ${work.file('fired')}`,
      `${lab.client6}: seq: OPEN SESAME`,
    ])
      expect(log).toMatch(
        new RegExp(
          `^\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\] ${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
          'm',
        ),
      );
    expect(log).not.toMatch(/\n\n/);
  });

  it('UDP and mixed doors (knock -u, knock PORT:udp)', async () => {
    await play(lab, [
      { knock: ['-u', lab.server4, '7100', '7200'] },
      { knock: [lab.server4, '7300', '7400:udp', '7500'] },
    ]);
    expect(await hasFired(`open udp ${lab.client4}`)).toBe(true);
    expect(await hasFired(`open mixed ${lab.client4}`)).toBe(true);
  });

  it('one-port door by nc and bash /dev/tcp', async () => {
    const [a] = lab.extraClient4 as [string];
    await lab.client.exec(['nc', '-z', '-w1', '-s', a, lab.server4, '7600']);
    await play(lab, [{ devtcp: 7600, to: lab.server6 }]);
    expect(await hasFired(`open one ${a}`)).toBe(true);
    expect(await hasFired(`open one ${lab.client6}`)).toBe(true);
  });

  it('exact TCP flags (hping3), other ports in between, wrong order', async () => {
    const [, b, c, d] = lab.extraClient4 as [string, string, string, string];
    await play(lab, [
      // a bare ACK is no knock for a syn door: neither a step nor a reset
      { tcp: 7000, src: b },
      { tcp: 8000, src: b, flags: 'A' },
      { tcp: 1234, src: b },
      { udp: 4321, src: b },
      { tcp: 8000, src: b },
      { tcp: 9000, src: b },
      // wrong order
      { tcp: 7000, src: c },
      { tcp: 9000, src: c },
      { tcp: 8000, src: c },
      // SYN+ACK does have SYN: it counts for tcpflags = syn
      { tcp: 7000, src: d, flags: 'SA' },
      { tcp: 8000, src: d },
      { tcp: 9000, src: d },
    ]);
    expect(await hasFired(`open seq ${b}`)).toBe(true);
    expect(await hasFired(`open seq ${d}`)).toBe(true);
    await sleep(300);
    expect(fired()).not.toContain(`open seq ${c}`);
  });

  it('a timeout is logged when it happens, and the late knock opens nothing', async () => {
    const [, , , , e] = lab.extraClient4 as [string, string, string, string, string];
    const from = daemon.lines.length;
    await play(lab, [{ tcp: 8200, src: e }]);
    await daemon.line(`${e}: short: sequence timeout (stage 1)`, 10_000, from);
    await play(lab, [{ tcp: 8300, src: e }]);
    await sleep(300);
    expect(fired()).not.toContain(`open short ${e}`);
  });

  it('one-time sequences: rotation for IPv4 and IPv6, used up, the daemon keeps running', async () => {
    await play(lab, [{ knock: [lab.server4, '6001', '6002'] }]);
    expect(await hasFired(`open otp ${lab.client4}`)).toBe(true);
    await waitFor(() => work.read('otp').startsWith('#'), 10_000);
    expect(work.read('otp')).toBe('#6001,6002\n 6003:udp,6004\n');
    // replaying the used sequence opens nothing
    const [, , , , , f] = lab.extraClient4 as [string, string, string, string, string, string];
    await play(lab, [
      { tcp: 6001, src: f },
      { tcp: 6002, src: f },
    ]);
    // the next one, over IPv6 (knockd 0.8 rebuilt only the IPv4 filter)
    await play(lab, [{ knock: ['-6', lab.server6, '6003:udp', '6004'] }]);
    expect(await hasFired(`open otp ${lab.client6}`)).toBe(true);
    await daemon.line(
      'no more sequences left in the one time sequences file for door otp --> disabling the door',
    );
    expect(fired()).not.toContain(`open otp ${f}`);
    expect(work.read('otp')).toBe('#6001,6002\n#6003:udp,6004\n');
    // still alive, other doors work
    await play(lab, [{ tcp: 7600, src: f }]);
    expect(await hasFired(`open one ${f}`)).toBe(true);
  });

  it('a failing command is logged with its status and stderr; a hanging one blocks nothing', async () => {
    const [, , , , , , g] = lab.extraClient4 as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    await play(lab, [
      { tcp: 8500, src: g },
      { tcp: 8600, src: g },
      { tcp: 7600, src: g },
    ]);
    await daemon.line('fails: command returned non-zero status code (3)');
    await daemon.line('fails: command stderr: broken');
    expect(await hasFired(`open one ${g}`, 2000)).toBe(true);
  });

  it('Cmd_Timeout: the stop command runs after the start command', async () => {
    const [, , , , , , , h] = lab.extraClient4 as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    await play(lab, [{ tcp: 8700, src: h }]);
    expect(await hasFired(`start timed ${h}`)).toBe(true);
    expect(fired()).not.toContain(`stop timed ${h}`);
    expect(await hasFired(`stop timed ${h}`, 4000)).toBe(true);
    await daemon.line(`${h}: timed: command timeout`);
  });

  it('SIGHUP mid-sequence: the knock still completes', async () => {
    const from = daemon.lines.length;
    await play(lab, [{ knock: [lab.server4, '7000'] }]);
    daemon.signal('SIGHUP');
    await daemon.line(`re-reading config file: ${work.file('knockd.conf')}`, 5000, from);
    await sleep(200);
    await play(lab, [{ knock: [lab.server4, '8000', '9000'] }]);
    await waitFor(
      () => fired().filter((l) => l === `open seq ${lab.client4}`).length === 2,
      10_000,
    );
    expect(fired().filter((l) => l === `open seq ${lab.client4}`)).toHaveLength(2);
  });

  it('SIGHUP keeps pending stop commands', async () => {
    const i = lab.extraClient4[8]!;
    await play(lab, [{ tcp: 8700, src: i }]);
    expect(await hasFired(`start timed ${i}`)).toBe(true);
    const from = daemon.lines.length;
    daemon.signal('SIGHUP');
    await daemon.line(`re-reading config file: ${work.file('knockd.conf')}`, 5000, from);
    expect(await hasFired(`stop timed ${i}`, 4000)).toBe(true);
  });

  it('a bad config on reload is logged and the old one keeps working', async () => {
    const conf = work.file('knockd.conf');
    const good = work.read('knockd.conf');
    work.write('knockd.conf', `${good}\n[broken]\n  sequence = 1,2:icmp\n`);
    const from = daemon.lines.length;
    daemon.signal('SIGHUP');
    await daemon.line(`${conf} has errors: keeping the running configuration`, 5000, from);
    expect(
      daemon.lines
        .slice(from)
        .some((l) => l.startsWith(`${conf}:`) && l.includes('error') && l.includes('icmp')),
    ).toBe(true);
    work.write('knockd.conf', good);
    await play(lab, [{ knock: ['-6', lab.server6, '7000', '8000', '9000'] }]);
    await waitFor(
      () => fired().filter((l) => l === `open seq ${lab.client6}`).length === 2,
      10_000,
    );
    expect(fired().filter((l) => l === `open seq ${lab.client6}`)).toHaveLength(2);
  });

  it('SIGTERM: pending work done, "shutting down", exit 0', async () => {
    const code = await daemon.stop(15_000);
    expect(code).toBe(0);
    expect(daemon.lines.at(-1)).toBe('shutting down');
    expect(work.read('knockd.log')).toMatch(/\] shutting down\n$/);
  });
});
