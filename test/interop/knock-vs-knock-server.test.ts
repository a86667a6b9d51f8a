/**
 * Our `knock` client against our `knock-server`, both the built binaries, in a lab's
 * namespaces: TCP, UDP (-u and :udp), mixed, IPv6, `family any` through a profile,
 * one-time sequences from `knock ots generate` consumed in step on both sides until
 * used up, and `--verify` against a port that the door opens in knock-server's own
 * firewall (Open_Ports). Debian's knock against knock-server is in
 * test/server/daemon.test.ts (TCP, UDP, mixed, IPv6, one-time sequences).
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNetns } from '../helpers/describe.js';
import { createLab, waitFor, type Lab } from '../helpers/netns.js';
import { ensureBuilt, generateOts, hostsEntry, knockIn } from '../helpers/lab-tools.js';
import {
  buildServer,
  record,
  serverLinkReady,
  sleep,
  startKnockServer,
  Workdir,
  type RunningDaemon,
} from '../helpers/daemon.js';
import { startListener } from '../helpers/lab-services.js';

/** Opened by the [verify] door (Open_Ports), closed to everyone else by knock-server's table. */
const VERIFY_PORT = 9022;

describeNetns(`knock against knock-server`, () => {
  let lab: Lab;
  let work: Workdir;
  let daemon: RunningDaemon;
  let listener: ChildProcess | undefined;
  let removeHosts: (() => void) | undefined;
  let env: NodeJS.ProcessEnv;
  let host: string;
  const fired = () => work.lines('fired');
  /** Waits (bounded) until `count` more lines were recorded after `before`; returns them. */
  const firedSince = async (before: number, count: number, ms = 5000) => {
    await waitFor(() => fired().length >= before + count, ms, 20);
    return fired().slice(before);
  };
  const knock = (args: string[]) => knockIn(lab.client, args, { env, timeoutMs: 20_000 });

  beforeAll(async () => {
    await Promise.all([buildServer(), ensureBuilt()]);
    lab = await createLab();
    await serverLinkReady(lab);
    work = new Workdir();
    host = `knock-server-${lab.id}.test`;
    removeHosts = hostsEntry(lab.client, host, [lab.server6, lab.server4]);
    // One file from our generator, one copy each for the server and the client.
    await generateOts(lab.client, work.file('server.ots'), 0.4, [work.file('client.ots')]);
    work.write(
      'config.toml',
      [
        `[hosts."${host}"]`,
        'sequence = "1228,1227"',
        'family = "any"',
        '',
        `[hosts."${lab.server4}"]`,
        `one_time_sequences = "${work.file('client.ots')}"`,
        'family = "ipv4"',
        '',
      ].join('\n'),
    );
    env = { ...process.env, KNOCK_CONFIG: work.file('config.toml'), HOME: work.path };
    const conf = work.write(
      'knockd.conf',
      `[options]
  LogFile  = ${work.file('knockd.log')}
  Firewall = nftables

[tcp]
  sequence    = 1228,1227
  seq_timeout = 10
  command     = ${record(work, 'tcp')}

[udp]
  sequence = 4000:udp,4001:udp,4002:udp
  command  = ${record(work, 'udp')}

[mixed]
  sequence = 2100,4003:udp,2101
  command  = ${record(work, 'mixed')}

[ots]
  one_time_sequences = ${work.file('server.ots')}
  command            = ${record(work, 'ots')}

[verify]
  sequence     = 5001,5002:udp,5003
  open_ports   = ${VERIFY_PORT}/tcp
  open_timeout = 30
`,
    );
    listener = await startListener(lab.server, [VERIFY_PORT]);
    daemon = startKnockServer(lab, ['-i', lab.serverIf, '-c', conf, '-v']);
    await daemon.line(`starting up, listening on ${lab.serverIf}`, 20_000);
  }, 60_000);

  afterAll(async () => {
    await daemon?.stop();
    listener?.kill('SIGKILL');
    removeHosts?.();
    await lab?.destroy();
    work?.remove();
  });

  it('TCP over IPv4', async () => {
    const before = fired().length;
    expect((await knock([lab.server4, '1228', '1227'])).code).toBe(0);
    expect(await firedSince(before, 1)).toEqual([`open tcp ${lab.client4}`]);
  });

  it('UDP with -u and with PORT:udp', async () => {
    const before = fired().length;
    expect((await knock(['-u', lab.server4, '4000', '4001', '4002'])).code).toBe(0);
    expect(await firedSince(before, 1)).toEqual([`open udp ${lab.client4}`]);
    expect((await knock([lab.server4, '4000:udp', '4001:udp', '4002:udp'])).code).toBe(0);
    expect(await firedSince(before, 2)).toEqual([
      `open udp ${lab.client4}`,
      `open udp ${lab.client4}`,
    ]);
  });

  it('a mixed door, with -d between the knocks, and -v lines like knockd', async () => {
    const before = fired().length;
    const result = await knock(['-v', '-d', '100', lab.server4, '2100', '4003:udp', '2101']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`hitting tcp ${lab.server4}:2100`);
    expect(result.stdout).toContain(`hitting udp ${lab.server4}:4003`);
    expect(await firedSince(before, 1)).toEqual([`open mixed ${lab.client4}`]);
  });

  it('IPv6: TCP, UDP and mixed doors', async () => {
    const before = fired().length;
    expect((await knock(['-6', lab.server6, '1228', '1227'])).code).toBe(0);
    expect((await knock(['-u', lab.server6, '4000', '4001', '4002'])).code).toBe(0);
    expect((await knock([lab.server6, '2100', '4003:udp', '2101'])).code).toBe(0);
    expect(await firedSince(before, 3)).toEqual([
      `open tcp ${lab.client6}`,
      `open udp ${lab.client6}`,
      `open mixed ${lab.client6}`,
    ]);
    await daemon.line(`${lab.client6}: mixed: OPEN SESAME`);
  });

  it('family any through a profile: every address of the name opens the door', async () => {
    const before = fired().length;
    expect((await knock([host])).code).toBe(0);
    expect((await firedSince(before, 2)).sort()).toEqual(
      [`open tcp ${lab.client4}`, `open tcp ${lab.client6}`].sort(),
    );
  });

  it('a wrong order opens nothing', async () => {
    const before = fired().length;
    // Over IPv6: the half attempt it leaves (1228 is a first knock) meets no later test.
    expect((await knock(['-6', lab.server6, '1227', '1228'])).code).toBe(0);
    await sleep(700);
    expect(fired().slice(before)).toEqual([]);
  });

  it('one-time sequences: consumed in step on both sides until used up; the daemon goes on', async () => {
    const used = (name: string) =>
      work
        .read(name)
        .split('\n')
        .filter((l) => /^#\s*\d/.test(l))
        .map((l) => l.replace(/^#\s*/, ''));
    const before = fired().length;
    for (let n = 1; n <= 3; n++) {
      const result = await knock([lab.server4]);
      expect(result.code, result.stderr).toBe(0);
      if (n === 3) expect(result.stderr).toContain('that was the last unused sequence');
      expect(await firedSince(before, n)).toEqual(
        Array.from({ length: n }, () => `open ots ${lab.client4}`),
      );
      // The server marks the same line the client marked, before the next knock.
      await waitFor(() => used('server.ots').length === n, 10_000);
      expect(used('client.ots')).toHaveLength(n);
      expect(used('server.ots')).toEqual(used('client.ots'));
    }
    await daemon.line(
      'no more sequences left in the one time sequences file for door ots --> disabling the door',
    );
    // The client says the file is used up, and sends nothing.
    const none = await knock([lab.server4]);
    expect(none.code).toBe(8);
    expect(none.stderr).toContain(
      `no unused sequence left in the one-time-sequence file ${work.file('client.ots')}`,
    );
    // A used sequence replayed by hand opens nothing.
    const replay = used('client.ots')[0]?.split(',') ?? [];
    expect(replay).toHaveLength(3);
    expect((await knock([lab.server4, ...replay])).code).toBe(0);
    // The daemon is still running, and its other doors work.
    expect((await knock([lab.server4, '1228', '1227'])).code).toBe(0);
    expect(await firedSince(before, 4)).toEqual([
      `open ots ${lab.client4}`,
      `open ots ${lab.client4}`,
      `open ots ${lab.client4}`,
      `open tcp ${lab.client4}`,
    ]);
    expect(daemon.exitCode).toBeUndefined();
  });

  it('--verify after a wrong sequence: still closed, exit 7 and a message saying so', async () => {
    const result = await knock([
      '--verify',
      String(VERIFY_PORT),
      '--timeout',
      '2',
      lab.server4,
      '5003',
      '5002:udp',
      '5001',
    ]);
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(
      `knock: knocked ${lab.server4}, but ${lab.server4}:${VERIFY_PORT} is still closed after 2 s`,
    );
    expect(daemon.lines.join('\n')).not.toContain(`${lab.client4}: verify: OPEN SESAME`);
  });

  it('--verify after the right sequence: the door opened the port (Open_Ports), exit 0', async () => {
    for (const [flag, address, source] of [
      ['-4', lab.server4, lab.client4],
      ['-6', lab.server6, lab.client6],
    ] as const) {
      const result = await knock([
        flag,
        '--verify',
        String(VERIFY_PORT),
        '--timeout',
        '5',
        address,
        '5001',
        '5002:udp',
        '5003',
      ]);
      expect(result.code, result.stderr).toBe(0);
      await daemon.line(`${source}: verify: opened ${VERIFY_PORT}/tcp for 30 s`);
    }
  });
});
