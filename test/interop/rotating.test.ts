/**
 * Rotating doors with the real binaries in a lab's namespaces: `knock-server secret new`
 * makes the secret, the daemon derives the sequences, `knock` knocks them (IPv4 and IPv6);
 * a captured knock replayed with tcpreplay (same source) or hping3 (another source), in
 * the same step and the next one, opens nothing; neither after a SIGHUP or a restart; a
 * client clock 29 s off opens, 91 s off does not and says so; a knock in progress
 * across a step boundary completes; a previous secret works until its grace period ends;
 * `knock proxy` and `knock ssh` (a real sshd behind knock-server's firewall) knock it too.
 * The client's clock is moved with KNOCK_CLOCK_OFFSET (README, "Rotating sequences").
 */
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deriveSequence, ROTATING_DEFAULTS, stepAt, type RotatingSpec } from '@knock/shared';
import { secretFileText } from '@knock/shared/node';
import { describeNetns } from '../helpers/describe.js';
import { createLab, waitFor, type Lab } from '../helpers/netns.js';
import { ensureBuilt, knockBin, knockIn } from '../client/lab-tools.js';
import {
  buildServer,
  play,
  record,
  serverLinkReady,
  SERVER_BIN,
  sleep,
  startKnockServer,
  Workdir,
  type RunningDaemon,
} from '../server/daemon-helpers.js';
import {
  SSH_REFUSED_OPTS,
  sshConnectTimedOut,
  startListener,
  startSshd,
  type Sshd,
} from '../helpers/lab-services.js';

const CLOCK_PORT = 9023;
const PROXY_PORT = 9024;
const FAST_STEP = 6;

describeNetns('rotating doors: knock against knock-server', () => {
  let lab: Lab;
  let work: Workdir;
  let daemon: RunningDaemon;
  let listener: ChildProcess | undefined;
  let sshd: Sshd | undefined;
  let env: NodeJS.ProcessEnv;
  let conf: string;
  let graceUntil: number;
  const secrets: Record<string, Uint8Array> = {};
  const fired = () => work.lines('fired');
  const firedSince = async (before: number, count: number, ms = 5000) => {
    await waitFor(() => fired().length >= before + count, ms, 20);
    return fired().slice(before);
  };
  /** Nothing more fired within `ms`. */
  const nothingSince = async (before: number, ms = 1500) => {
    await sleep(ms);
    return fired().slice(before);
  };
  const knock = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    knockIn(lab.client, args, { env: { ...env, ...extraEnv }, timeoutMs: 30_000 });
  const spec = (door: string, over: Partial<RotatingSpec> = {}): RotatingSpec => ({
    secret: secrets[door]!,
    label: door,
    length: ROTATING_DEFAULTS.length,
    step: ROTATING_DEFAULTS.step,
    low: ROTATING_DEFAULTS.low,
    high: ROTATING_DEFAULTS.high,
    protocols: 'tcp',
    ...over,
  });
  const start = async () => {
    daemon = startKnockServer(lab, [
      '-i',
      lab.serverIf,
      '-c',
      conf,
      '-v',
      '--state-dir',
      work.file('state'),
    ]);
    await daemon.line(`starting up, listening on ${lab.serverIf}`, 20_000);
  };
  const writeSecret = (name: string): string => {
    const secret = randomBytes(20);
    secrets[name] = secret;
    const path = work.file(`${name}.secret`);
    writeFileSync(path, secretFileText(secret, name), { mode: 0o600 });
    return path;
  };
  /** Waits until `ms` into a step of `step` seconds (at least `ms` after a boundary). */
  const waitForPhase = async (step: number, ms: number) => {
    const into = Date.now() % (step * 1000);
    await sleep((ms - into + step * 1000) % (step * 1000));
  };

  beforeAll(async () => {
    await Promise.all([buildServer(), ensureBuilt()]);
    lab = await createLab({ extraClients: 1 });
    await serverLinkReady(lab);
    work = new Workdir();

    // The [ssh] door's secret comes from the real `secret new`.
    const made = await lab.server.exec([
      process.execPath,
      SERVER_BIN,
      'secret',
      'new',
      'ssh',
      '--file',
      work.file('ssh.secret'),
      '--host',
      'ssh.rot',
    ]);
    expect(made.code, made.stderr).toBe(0);
    expect(statSync(work.file('ssh.secret')).mode & 0o777).toBe(0o600);
    const uri = /knock import '([^']+)'/.exec(made.stdout)?.[1] ?? '';
    secrets.ssh = Buffer.from(
      (await import('@knock/shared')).parseSecret(new URL(uri).searchParams.get('secret') ?? '')
        .secret ?? [],
    );
    writeSecret('clock');
    writeSecret('proxy');
    writeSecret('sshd');
    writeSecret('fast');
    writeSecret('tight');
    writeSecret('grace-old');
    writeSecret('grace');
    graceUntil = Date.now() + 40_000;

    // /etc/hosts of the client namespace: one name per door.
    const hostsDir = join('/etc/netns', lab.client.name);
    mkdirSync(hostsDir, { recursive: true });
    writeFileSync(
      join(hostsDir, 'hosts'),
      [
        `${lab.server4} ssh.rot clock.rot fast.rot grace-old.rot grace-new.rot proxy.rot sshd.rot`,
        `${lab.server6} ssh.rot`,
        '',
      ].join('\n'),
    );
    const profile = (host: string, door: string, secretFile: string, extra: string[] = []) =>
      [`[hosts."${host}"]`, `secret_file = "${secretFile}"`, `door = "${door}"`, ...extra, ''].join(
        '\n',
      );
    const clientCopy = (name: string) => {
      const path = work.file(`client-${name}.secret`);
      copyFileSync(work.file(`${name}.secret`), path);
      return path;
    };
    work.write(
      'config.toml',
      [
        profile('ssh.rot', 'ssh', clientCopy('ssh')),
        profile('clock.rot', 'clock', clientCopy('clock'), [`port = ${CLOCK_PORT}`]),
        profile('proxy.rot', 'proxy', clientCopy('proxy'), [`port = ${PROXY_PORT}`]),
        profile('sshd.rot', 'sshd', clientCopy('sshd'), ['port = 22']),
        profile('fast.rot', 'fast', clientCopy('fast'), [`step = ${FAST_STEP}`]),
        profile('grace-old.rot', 'grace', clientCopy('grace-old')),
        profile('grace-new.rot', 'grace', clientCopy('grace')),
      ].join('\n'),
    );
    env = { ...process.env, KNOCK_CONFIG: work.file('config.toml'), HOME: work.path };
    delete env.KNOCK_CLOCK_OFFSET;
    conf = work.write(
      'knockd.conf',
      `[options]
  Firewall = nftables

[ssh]
  Sequence_Secret_File = ${work.file('ssh.secret')}
  Seq_Timeout          = 10
  Start_Command        = ${record(work, 'ssh')}

[clock]
  Sequence_Secret_File = ${work.file('clock.secret')}
  Seq_Timeout          = 10
  Open_Ports           = ${CLOCK_PORT}/tcp
  Open_Timeout         = 60

[proxy]
  Sequence_Secret_File = ${work.file('proxy.secret')}
  Seq_Timeout          = 10
  Open_Ports           = ${PROXY_PORT}/tcp
  Open_Timeout         = 60

[sshd]
  Sequence_Secret_File = ${work.file('sshd.secret')}
  Seq_Timeout          = 10
  Open_Ports           = 22/tcp
  Open_Timeout         = 60

[fast]
  Sequence_Secret_File = ${work.file('fast.secret')}
  Sequence_Step        = ${FAST_STEP}
  Seq_Timeout          = 10
  Start_Command        = ${record(work, 'fast')}

[tight]
  Sequence_Secret_File = ${work.file('tight.secret')}
  Sequence_Step        = ${FAST_STEP}
  Sequence_Skew        = 0
  Seq_Timeout          = 10
  Start_Command        = ${record(work, 'tight')}

[grace]
  Sequence_Secret_File           = ${work.file('grace.secret')}
  Sequence_Secret_Previous_File  = ${work.file('grace-old.secret')}
  Sequence_Secret_Previous_Until = ${new Date(graceUntil).toISOString()}
  Seq_Timeout                    = 10
  Start_Command                  = ${record(work, 'grace')}
`,
    );
    const checked = await lab.server.exec([process.execPath, SERVER_BIN, 'check', '-c', conf]);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    listener = await startListener(lab.server, [CLOCK_PORT, PROXY_PORT]);
    sshd = await startSshd(lab, work.path);
    await start();
  }, 90_000);

  afterAll(async () => {
    await daemon?.stop();
    listener?.kill('SIGKILL');
    sshd?.child.kill('SIGKILL');
    if (lab) rmSync(join('/etc/netns', lab.client.name), { recursive: true, force: true });
    await lab?.destroy();
    work?.remove();
  });

  it('knock opens a rotating door over IPv4 and IPv6, each with its own sequence; the log names the step', async () => {
    const before = fired().length;
    const result = await knock(['ssh.rot']);
    expect(result.code, result.stderr).toBe(0);
    expect((await firedSince(before, 2)).sort()).toEqual(
      [`open ssh ${lab.client4}`, `open ssh ${lab.client6}`].sort(),
    );
    await daemon.line(new RegExp(`^${lab.client4}: ssh: OPEN SESAME \\(step \\d+, IPv4\\)$`));
    await daemon.line(
      new RegExp(`^${lab.client6.replace(/:/g, ':')}: ssh: OPEN SESAME \\(step \\d+, IPv6\\)$`),
    );
  });

  it('a captured knock replayed (tcpreplay, same source; hping3, another source) opens nothing, in the same step and the next', async () => {
    const pcap = work.file('knock.pcap');
    const dump = lab.client.spawn([
      'tcpdump',
      '-i',
      lab.clientIf,
      '-Q',
      'out',
      '-U',
      '--immediate-mode',
      '-w',
      pcap,
      `tcp and dst host ${lab.server4}`,
    ]);
    let err = '';
    dump.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    expect(await waitFor(() => err.includes('listening on'), 10_000)).toBe(true);
    await waitForPhase(FAST_STEP, 100);
    const before = fired().length;
    const step = stepAt(Date.now(), FAST_STEP);
    expect((await knock(['-4', 'fast.rot'])).code).toBe(0);
    expect(await firedSince(before, 1)).toEqual([`open fast ${lab.client4}`]);
    await sleep(200);
    const exited = new Promise((r) => dump.once('exit', r));
    dump.kill('SIGINT');
    await exited;
    const ports = deriveSequence(spec('fast', { step: FAST_STEP }), 4, step).map((k) => k.port);
    // The capture holds the knock: the four SYNs to the derived ports.
    const read = await lab.client.exec(['tcpdump', '-r', pcap, '-nn']);
    expect(
      ports.filter((p) => !read.stdout.includes(`${lab.server4}.${p}: Flags [S]`)),
      `${ports.join()}\n${read.stdout}${read.stderr}`,
    ).toEqual([]);

    // Same step: the exact frames again, then the same ports from another address.
    const replay = () =>
      lab.client.exec(['tcpreplay', '-i', lab.clientIf, pcap], { timeoutMs: 10_000 });
    expect(stepAt(Date.now(), FAST_STEP)).toBe(step);
    expect((await replay()).code).toBe(0);
    await play(
      lab,
      ports.map((port) => ({ tcp: port, src: lab.extraClient4[0]! })),
    );
    expect(await nothingSince(before + 1)).toEqual([]);

    // The next step (the old one is still in the window: refused because it was used).
    await sleep((step + 1) * FAST_STEP * 1000 - Date.now() + 100);
    expect(stepAt(Date.now(), FAST_STEP)).toBe(step + 1);
    expect((await replay()).code).toBe(0);
    await play(
      lab,
      ports.map((port) => ({ tcp: port, src: lab.extraClient4[0]! })),
    );
    expect(await nothingSince(before + 1)).toEqual([]);
  }, 30_000);

  it('a client clock 91 s off does not open, and knock --verify says why; 29 s off opens', async () => {
    const before = fired().length;
    const late = await knock(['--verify', '--timeout', '2', 'clock.rot'], {
      KNOCK_CLOCK_OFFSET: '-91',
    });
    expect(late.code).not.toBe(0);
    expect(late.stderr).toContain(`${lab.server4}:${CLOCK_PORT} is still closed`);
    expect(late.stderr).toMatch(/rotating door \(step \d+, 30 s per step\)/);
    expect(late.stderr).toMatch(/this computer's clock \(.* UTC\) is within about 30 s/);
    const early = await knock(['--verify', '--timeout', '5', 'clock.rot'], {
      KNOCK_CLOCK_OFFSET: '-29',
    });
    expect(early.code, early.stderr).toBe(0);
    expect(early.stdout).toContain(`port ${CLOCK_PORT} is open`);
    expect(fired().slice(before)).toEqual([]);
  }, 30_000);

  it('knock proxy (an ssh ProxyCommand) knocks the rotating sequence, then relays', async () => {
    // Closed before: knock-server's table drops it.
    const closed = await lab.client.exec(
      ['bash', '-c', `timeout 2 bash -c 'exec 3<>/dev/tcp/${lab.server4}/${PROXY_PORT}'`],
      { timeoutMs: 5000 },
    );
    expect(closed.code).not.toBe(0);
    const relayed = await knock(['proxy', 'proxy.rot', String(PROXY_PORT)]);
    expect(relayed.code, relayed.stderr).toBe(0);
    expect(relayed.stdout).toBe('hello\n');
    await daemon.line(/^192\.0\.2\.1: proxy: OPEN SESAME \(step \d+, IPv4\)$/);
  }, 30_000);

  it('knock ssh knocks the rotating sequence, waits for port 22, then runs ssh', async () => {
    const ssh = `ssh -F ${sshd?.sshConfig ?? ''} ${SSH_REFUSED_OPTS}`;
    const before = await lab.client.exec(['sh', '-c', `${ssh} sshd.rot echo no`], {
      env,
      timeoutMs: 15_000,
    });
    expect(before.stdout).toBe('');
    expect(sshConnectTimedOut(before.stderr), before.stderr).toBe(true);
    const result = await lab.client.exec(
      [process.execPath, knockBin, 'ssh', '-F', sshd?.sshConfig ?? '', 'sshd.rot', 'echo', 'in'],
      { env, timeoutMs: 30_000 },
    );
    expect(result.stdout, result.stderr).toBe('in\n');
    expect(result.code).toBe(0);
  }, 40_000);

  it('a knock in progress across a step boundary completes (Sequence_Skew = 0)', async () => {
    await waitForPhase(FAST_STEP, FAST_STEP * 1000 - 1500);
    const step = stepAt(Date.now(), FAST_STEP);
    const ports = deriveSequence(spec('tight', { step: FAST_STEP }), 4, step).map((k) => k.port);
    const before = fired().length;
    await play(lab, [
      { tcp: ports[0]!, src: lab.client4 },
      { tcp: ports[1]!, src: lab.client4 },
    ]);
    expect(stepAt(Date.now(), FAST_STEP)).toBe(step);
    await sleep((step + 1) * FAST_STEP * 1000 - Date.now() + 300);
    expect(stepAt(Date.now(), FAST_STEP)).toBe(step + 1);
    await play(lab, [
      { tcp: ports[2]!, src: lab.client4 },
      { tcp: ports[3]!, src: lab.client4 },
    ]);
    expect(await firedSince(before, 1)).toEqual([`open tight ${lab.client4}`]);
    await daemon.line(`${lab.client4}: tight: OPEN SESAME (step ${step}, IPv4)`);
  }, 20_000);

  it('after a SIGHUP and after a restart, a used sequence is still refused', async () => {
    // A step of its own (the first test may have used this one's sequences).
    await sleep((stepAt(Date.now(), 30) + 1) * 30_000 - Date.now() + 500);
    const step = stepAt(Date.now(), 30);
    const ports = deriveSequence(spec('ssh'), 4, step).map((k) => k.port);
    const before = fired().length;
    await play(
      lab,
      ports.map((port) => ({ tcp: port, src: lab.client4 })),
    );
    expect(await firedSince(before, 1)).toEqual([`open ssh ${lab.client4}`]);
    const from = daemon.lines.length;
    daemon.signal('SIGHUP');
    await daemon.line(/re-reading config file/, 5000, from);
    await sleep(300);
    await play(
      lab,
      ports.map((port) => ({ tcp: port, src: lab.extraClient4[0]! })),
    );
    expect(await nothingSince(before + 1)).toEqual([]);
    expect(await daemon.stop()).toBe(0);
    await start();
    await play(
      lab,
      ports.map((port) => ({ tcp: port, src: lab.extraClient4[0]! })),
    );
    expect(await nothingSince(before + 1)).toEqual([]);
    // Still within the window: without the state file this would have opened.
    expect(stepAt(Date.now(), 30)).toBeLessThanOrEqual(step + 1);
    // A sequence not used yet (this step's IPv6 one) still opens.
    expect((await knock(['-6', 'ssh.rot'])).code).toBe(0);
    expect(await firedSince(before + 1, 1)).toEqual([`open ssh ${lab.client6}`]);
  }, 90_000);

  it('the previous secret opens during its grace period, not after it; the new one does', async () => {
    // The grace period ends in 8 s from now: the new end comes in with a SIGHUP.
    const until = Date.now() + 8000;
    writeFileSync(
      conf,
      readFileSync(conf, 'utf8').replace(
        new Date(graceUntil).toISOString(),
        new Date(until).toISOString(),
      ),
    );
    graceUntil = until;
    const from = daemon.lines.length;
    daemon.signal('SIGHUP');
    await daemon.line(/re-reading config file/, 5000, from);
    await sleep(500);
    const before = fired().length;
    expect((await knock(['grace-old.rot'])).code).toBe(0);
    expect(await firedSince(before, 1)).toEqual([`open grace ${lab.client4}`]);
    await daemon.line(/grace: OPEN SESAME \(step \d+, IPv4, previous secret\)$/);
    await sleep(Math.max(0, until - Date.now() + 500));
    expect((await knock(['grace-old.rot'])).code).toBe(0);
    expect(await nothingSince(before + 1)).toEqual([]);
    expect((await knock(['grace-new.rot'])).code).toBe(0);
    expect(await firedSince(before + 1, 1)).toEqual([`open grace ${lab.client4}`]);
  }, 60_000);
});
