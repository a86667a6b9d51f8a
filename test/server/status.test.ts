/**
 * `knock-server status` and `knock-server metrics` against the real daemon in a
 * network namespace: exact counters after a known set of knocks (two opens, one
 * timeout, one wrong knock, a ban), a failed reload, a deleted capture interface, a
 * non-root client refused, and a flood captured without a drop while ten clients poll
 * the status every 10 ms.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createLab, netnsSkipReason, waitFor, type Lab } from '../helpers/netns.js';
import { PrometheusText } from '../../server/test/helpers/prometheus-text.js';
import {
  SERVER_BIN,
  buildServer,
  play,
  record,
  serverLinkReady,
  sleep,
  startKnockServer,
  Workdir,
  type RunningDaemon,
} from './daemon-helpers.js';

const run = promisify(execFile);
const title = (what: string) => `${what}${netnsSkipReason ? ` (skipped: ${netnsSkipReason})` : ''}`;

interface Status {
  config: {
    reloads: { ok: number; failed: number };
    lastReload?: { ok: boolean; message: string };
  };
  interfaces: { name: string; capturing: boolean }[];
  captureLost: boolean;
  capture?: { received: number; kernelDropped: number; interfaceDropped: number };
  packets: number;
  doors: {
    name: string;
    knocks: number[];
    opens: number;
    timeouts: number;
    wrongKnocks: number;
    inProgress: number;
    state: string;
  }[];
  commands: { run: number; failed: number };
  firewall: { bans: number; bansActive: number };
}

/** Runs the built `knock-server` client (not in the namespace: the socket is a file). */
async function cli(
  args: string[],
  options: { user?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = options.user
    ? ['runuser', ['-u', options.user, '--', process.execPath, SERVER_BIN, ...args]]
    : [process.execPath, [SERVER_BIN, ...args]];
  try {
    const { stdout, stderr } = await run(argv[0] as string, argv[1] as string[], {
      timeout: 15_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    };
  }
}

/** A pcap of `count` TCP SYNs to `port` from 192.0.2.100–199 (TCP checksum left 0: no replies). */
function floodPcap(path: string, count: number, port: number, dstMac: string, srcMac: string) {
  const mac = (text: string) => Buffer.from(text.replace(/:/g, ''), 'hex');
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const records: Buffer[] = [header];
  for (let i = 0; i < count; i++) {
    const frame = Buffer.alloc(54);
    mac(dstMac).copy(frame, 0);
    mac(srcMac).copy(frame, 6);
    frame.writeUInt16BE(0x0800, 12);
    frame[14] = 0x45;
    frame.writeUInt16BE(40, 16);
    frame.writeUInt16BE(i & 0xffff, 18);
    frame[22] = 64;
    frame[23] = 6;
    Buffer.from([192, 0, 2, 100 + (i % 100)]).copy(frame, 26);
    Buffer.from([192, 0, 2, 2]).copy(frame, 30);
    let sum = 0;
    for (let k = 14; k < 34; k += 2) sum += frame.readUInt16BE(k);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    frame.writeUInt16BE(~sum & 0xffff, 24);
    frame.writeUInt16BE(20000 + (i % 40000), 34);
    frame.writeUInt16BE(port, 36);
    frame.writeUInt32BE((i * 2654435761) >>> 0, 38);
    frame[46] = 0x50;
    frame[47] = 0x02;
    frame.writeUInt16BE(64240, 48);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1 + Math.floor(i / 1_000_000), 0);
    rec.writeUInt32LE(i % 1_000_000, 4);
    rec.writeUInt32LE(54, 8);
    rec.writeUInt32LE(54, 12);
    records.push(rec, frame);
  }
  writeFileSync(path, Buffer.concat(records));
}

describe.skipIf(!canUseNetns)(title('knock-server status and metrics, live'), () => {
  let lab: Lab;
  let work: Workdir;
  let daemon: RunningDaemon;
  let socket: string;
  let conf: string;
  const status = async (): Promise<Status> => {
    const r = await cli(['status', '--json', '-s', socket]);
    if (r.code !== 0) throw new Error(`status exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Status;
  };
  const metrics = async (): Promise<PrometheusText> => {
    const r = await cli(['metrics', '-s', socket]);
    if (r.code !== 0) throw new Error(`metrics exited ${r.code}: ${r.stderr}`);
    return new PrometheusText(r.stdout);
  };
  const door = (s: Status, name: string) => s.doors.find((d) => d.name === name);

  beforeAll(async () => {
    await buildServer();
    lab = await createLab({ extraClients: 6 });
    await serverLinkReady(lab);
    work = new Workdir();
    // nobody must reach the socket itself (not be stopped by the directory) for the test to mean anything
    chmodSync(work.path, 0o755);
    socket = work.file('control.sock');
    conf = work.write(
      'knockd.conf',
      `[options]
  LogFile        = ${work.file('knockd.log')}
  Control_Socket = ${socket}
  Metrics_Listen = ${lab.server4}:9742 public
  Firewall       = nftables

[ssh]
  sequence    = 7000,8000
  seq_timeout = 2
  tcpflags    = syn
  command     = ${record(work, 'ssh')}

[ban]
  sequence    = 7500
  tcpflags    = syn
  ban         = 60
`,
    );
    daemon = startKnockServer(lab, ['-i', lab.serverIf, '-c', conf, '-v']);
    await daemon.line(`starting up, listening on ${lab.serverIf}`, 30_000);
  }, 90_000);

  afterAll(async () => {
    await daemon?.stop();
    await lab?.destroy();
    work?.remove();
  });

  it('counts exactly: two opens, one timeout, one wrong knock, a ban', async () => {
    const [a, b, c, d] = lab.extraClient4 as [string, string, string, string];
    await play(lab, [
      { tcp: 7000, src: a },
      { tcp: 8000, src: a },
      { tcp: 7000, src: b },
      { tcp: 8000, src: b },
      { tcp: 7000, src: c }, // left to time out
      { tcp: 7000, src: d },
      { tcp: 7500, src: d }, // wrong knock for ssh, and the ban door
    ]);
    await daemon.line(`${c}: ssh: sequence timeout (stage 1)`, 5000);
    await daemon.line(new RegExp(`${d.replace(/\./g, '\\.')}: ban: banned for 60 s`), 5000);
    await waitFor(async () => (await status()).commands.run === 2, 5000);
    const s = await status();
    expect(s.packets).toBe(7);
    expect(door(s, 'ssh')).toMatchObject({
      knocks: [4, 2],
      opens: 2,
      timeouts: 1,
      wrongKnocks: 1,
      inProgress: 0,
      state: 'armed',
    });
    expect(door(s, 'ban')).toMatchObject({ knocks: [1], opens: 1, timeouts: 0, wrongKnocks: 0 });
    expect(s.firewall).toMatchObject({ bans: 1, bansActive: 1 });
    expect(s.commands).toMatchObject({ run: 2, failed: 0 });
    expect(s.capture).toMatchObject({ received: 7, kernelDropped: 0, interfaceDropped: 0 });
    expect(s.interfaces).toEqual([{ name: lab.serverIf, capturing: true }]);

    const m = await metrics();
    expect(m.value('knock_server_packets_total')).toBe(7);
    expect(m.value('knock_server_opens_total', { door: 'ssh' })).toBe(2);
    expect(m.value('knock_server_opens_total', { door: 'ban' })).toBe(1);
    expect(m.value('knock_server_sequence_timeouts_total', { door: 'ssh' })).toBe(1);
    expect(m.value('knock_server_wrong_knocks_total', { door: 'ssh' })).toBe(1);
    expect(m.value('knock_server_knocks_total', { door: 'ssh', stage: '1' })).toBe(4);
    expect(m.value('knock_server_knocks_total', { door: 'ssh', stage: '2' })).toBe(2);
    expect(m.value('knock_server_bans_total')).toBe(1);
    expect(m.value('knock_server_commands_run_total')).toBe(2);
    expect(m.value('knock_server_capture_kernel_drops_total')).toBe(0);
    const opened = m.family('knock_server_open_duration_seconds').metrics[0];
    expect(Number(opened?.count)).toBe(3);

    const human = await cli(['status', '-s', socket]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ssh +7000,8000 +armed +0 +4\/2 +2 +1 +1$/m);
    expect(human.stdout).toMatch(/^ban +7500 +armed +0 +1 +1 +0 +0$/m);
  }, 30_000);

  it('Metrics_Listen ... public: served over HTTP to the network, and said loudly', async () => {
    await daemon.line(
      `WARNING: Prometheus metrics are served to the NETWORK on http://${lab.server4}:9742/metrics (Metrics_Listen ... public): anyone who can reach it reads door names and knock counts`,
    );
    const fetched = await lab.client.exec(
      [
        process.execPath,
        '-e',
        `require('node:http').get('http://${lab.server4}:9742/metrics', (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => process.stdout.write(r.headers['content-type'] + '\\n' + b)); })`,
      ],
      { timeoutMs: 10_000 },
    );
    expect(fetched.code, fetched.stderr).toBe(0);
    const [type, ...body] = fetched.stdout.split('\n');
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const overHttp = new PrometheusText(body.join('\n'));
    const overSocket = await metrics();
    for (const name of ['knock_server_bans_total', 'knock_server_commands_run_total'])
      expect(overHttp.value(name)).toBe(overSocket.value(name));
    expect(overHttp.value('knock_server_opens_total', { door: 'ssh' })).toBe(2);
  });

  it('no drop in a 20,000-packet flood while ten clients poll the status every 10 ms', async () => {
    const before = await status();
    const macOf = async (ns: 'client' | 'server', dev: string) =>
      /link\/ether ([0-9a-f:]{17})/.exec(await lab[ns].sh(`ip -o link show dev ${dev}`))![1]!;
    const pcap = work.file('flood.pcap');
    floodPcap(
      pcap,
      20_000,
      7000,
      await macOf('server', lab.serverIf),
      await macOf('client', lab.clientIf),
    );
    let polling = true;
    let polls = 0;
    let failures = 0;
    const { request } = await import('../../server/src/control/client.js');
    const pollers = Array.from({ length: 10 }, async () => {
      while (polling) {
        try {
          const r = await request(socket, 'status');
          if (r.ok) polls++;
          else failures++;
        } catch {
          failures++;
        }
        await sleep(10);
      }
    });
    const replay = await lab.client.exec(
      ['tcpreplay', '-q', '-i', lab.clientIf, '--pps=20000', pcap],
      {
        timeoutMs: 60_000,
      },
    );
    expect(replay.code, replay.stderr).toBe(0);
    await waitFor(async () => (await status()).packets >= before.packets + 20_000, 10_000);
    polling = false;
    await Promise.all(pollers);
    const after = await status();
    expect(after.packets - before.packets).toBe(20_000);
    expect(after.capture!.kernelDropped).toBe(0);
    expect(failures).toBe(0);
    expect(polls).toBeGreaterThan(100);
  }, 90_000);

  it('a non-root user is refused by the socket', async () => {
    const probe = await cli(['--version'], { user: 'nobody' });
    // The checkout must be readable by nobody for the client itself to run (it is in CI).
    expect(probe.code, probe.stderr).toBe(0);
    const r = await cli(['status', '-s', socket], { user: 'nobody' });
    expect(r.code).toBe(13);
    expect(r.stderr).toContain(`no permission to use the control socket ${socket}`);
    expect(r.stdout).toBe('');
  });

  it('a reload with a bad config shows as failed', async () => {
    const good = work.read('knockd.conf');
    work.write('knockd.conf', `${good}\n[broken]\n  sequence = 1,2:icmp\n`);
    const from = daemon.lines.length;
    daemon.signal('SIGHUP');
    await daemon.line(`${conf} has errors: keeping the running configuration`, 5000, from);
    const s = await status();
    expect(s.config.reloads).toEqual({ ok: 0, failed: 1 });
    expect(s.config.lastReload).toMatchObject({ ok: false });
    expect(s.config.lastReload?.message).toMatch(/1 error in the config .*icmp/);
    const human = await cli(['status', '-s', socket]);
    expect(human.stdout).toMatch(
      /^reloads +0 ok, 1 failed; last .* ago: FAILED: 1 error in the config/m,
    );
    const m = await metrics();
    expect(m.value('knock_server_reloads_total', { result: 'failed' })).toBe(1);
    expect(m.value('knock_server_last_reload_success')).toBe(0);
    work.write('knockd.conf', good);
  });

  it('Control_Socket and Metrics_Listen changed on SIGHUP: said to wait for a restart; the running ones keep answering', async () => {
    const good = work.read('knockd.conf');
    const moved = work.file('moved.sock');
    work.write(
      'knockd.conf',
      good
        .replace(`Control_Socket = ${socket}`, `Control_Socket = ${moved}`)
        .replace(`Metrics_Listen = ${lab.server4}:9742 public`, 'Metrics_Listen = 127.0.0.1:9743'),
    );
    const from = daemon.lines.length;
    daemon.signal('SIGHUP');
    await daemon.line(
      `Control_Socket changed from ${socket} to ${moved}: it takes effect at the next start (until then this daemon answers on ${socket}: knock-server status -s ${socket})`,
      10_000,
      from,
    );
    await daemon.line(
      `Metrics_Listen changed from ${lab.server4}:9742 public to 127.0.0.1:9743: it takes effect at the next start`,
      10_000,
      from,
    );
    // Still on the socket it started with, and the reload's status says what waits.
    const s = await status();
    expect(s.config.lastReload).toMatchObject({
      ok: true,
      message: '2 doors loaded; Control_Socket, Metrics_Listen: at the next start',
    });
    expect(existsSync(moved)).toBe(false);
    work.write('knockd.conf', good);
  });

  it('a deleted capture interface shows as not capturing', async () => {
    await lab.server.sh(`ip link del ${lab.serverIf}`);
    await daemon.line(/capture failed: .*retrying every 1 s/, 10_000);
    const s = await status();
    expect(s.interfaces).toEqual([{ name: lab.serverIf, capturing: false }]);
    expect(s.captureLost).toBe(true);
    const human = await cli(['status', '-s', socket]);
    expect(human.stdout).toContain(`interfaces ${lab.serverIf} (NOT capturing: retrying)`);
    const m = await metrics();
    expect(m.value('knock_server_interface_capturing', { interface: lab.serverIf })).toBe(0);
  });

  it('without a daemon: a clear message and exit 1', async () => {
    expect(await daemon.stop(15_000)).toBe(0);
    const r = await cli(['status', '-s', socket]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `knock-server: no knock-server is running with the control socket ${socket} (it does not exist)\n` +
        '  hint: start it (systemctl start knock-server), or name its socket: --socket PATH, or -c CONFIG to read Control_Socket from it\n',
    );
  });
});
