/**
 * knock-server's life cycle, for real: clear errors at start (bad flag, bad config,
 * missing interface), -d with its pidfile (refusing a live one), a log file on a full
 * disk, and an interface deleted and re-created while it runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNetns } from '../helpers/describe.js';
import { ExitCode } from '@knock/shared';
import { createLab, waitFor, type Lab } from '../helpers/netns.js';
import {
  buildServer,
  serverLinkReady,
  play,
  record,
  sleep,
  startKnockServer,
  Workdir,
} from '../helpers/daemon.js';

describeNetns('knock-server life cycle', () => {
  let lab: Lab;
  let work: Workdir;
  let conf: string;

  beforeAll(async () => {
    await buildServer();
    lab = await createLab({ extraClients: 2 });
    await serverLinkReady(lab);
    work = new Workdir();
    conf = work.write(
      'knockd.conf',
      `[one]\n  sequence = 7600\n  command = ${record(work, 'one')}\n`,
    );
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
    work?.remove();
  });

  it('an unknown flag: exit 2, naming the flag', async () => {
    const d = startKnockServer(lab, ['--frobnicate']);
    expect(await d.exited).toBe(ExitCode.usage);
    expect(d.errors.join('\n')).toContain("unknown option '--frobnicate'");
  });

  it('a bad config at start: every problem with its line, exit 3', async () => {
    const bad = work.write('bad.conf', '[one]\n  sequence = 1:icmp\n  nonsense = 2\n');
    const d = startKnockServer(lab, ['-i', lab.serverIf, '-c', bad]);
    expect(await d.exited).toBe(ExitCode.config);
    expect(d.errors.some((l) => l.startsWith(`${bad}:2:`))).toBe(true);
    expect(d.errors.some((l) => l.startsWith(`${bad}:3:`))).toBe(true);
    expect(d.errors.join('\n')).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a missing interface at start: a clear error, exit 11, and why in the log (issue 9 item 13)', async () => {
    const log = work.file('missing-if.log');
    const d = startKnockServer(lab, ['-i', 'nosuch0', '-c', conf, '-g', log]);
    expect(await d.exited).toBe(ExitCode.capture);
    expect(d.errors.join('\n')).toContain('nosuch0');
    expect(d.errors.join('\n')).not.toMatch(/\n\s+at /);
    const logged = readFileSync(log, 'utf8');
    expect(logged).toMatch(/\] knock-server did not start: no such interface "nosuch0"/);
  });

  it('a pidfile in a missing directory: the error names it, never a temp file (issue 9 item 13)', async () => {
    const pidFile = work.file('no/such/dir/k.pid');
    const d = startKnockServer(lab, ['-i', lab.serverIf, '-c', conf, '-p', pidFile]);
    expect(await d.exited).not.toBe(0);
    const errors = d.errors.join('\n');
    expect(errors).toContain(`could not create pid file ${pidFile}`);
    expect(errors).not.toMatch(/\.tmp\b|\.k\.pid\./);
  });

  it('a down interface at start: a clear error, exit 11', async () => {
    await lab.server.sh(
      'ip link add kdown0 type veth peer name kdown1 && ip addr add 198.51.100.2/24 dev kdown0',
    );
    const d = startKnockServer(lab, ['-i', 'kdown0', '-c', conf]);
    expect(await d.exited).toBe(ExitCode.capture);
    expect(d.errors.join('\n')).toContain('interface "kdown0" is down');
  });

  it('-d: the foreground process exits 0 once the daemon runs; a second one is refused; SIGTERM cleans up', async () => {
    const pidFile = work.file('knock.pid');
    const log = work.file('d.log');
    // a stale pidfile (its process is gone) is replaced
    const gone = spawnSync('true').pid;
    writeFileSync(pidFile, `${gone}\n`);
    const parent = startKnockServer(lab, [
      '-d',
      '-i',
      lab.serverIf,
      '-c',
      conf,
      '-p',
      pidFile,
      '-g',
      log,
    ]);
    expect(await parent.exited).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(Number.isInteger(pid) && pid > 0 && pid !== gone).toBe(true);
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(readFileSync(log, 'utf8')).toMatch(
      new RegExp(`\\] starting up, listening on ${lab.serverIf}\\n`),
    );

    const second = startKnockServer(lab, ['-d', '-i', lab.serverIf, '-c', conf, '-p', pidFile]);
    expect(await second.exited).toBe(ExitCode.alreadyRunning);
    expect(second.errors.join('\n')).toContain(`${pidFile} names live process ${pid}`);

    await play(lab, [{ tcp: 7600, src: lab.extraClient4[0]! }]);
    expect(
      await waitFor(() => work.lines('fired').includes(`open one ${lab.extraClient4[0]}`), 5000),
    ).toBe(true);

    process.kill(pid, 'SIGTERM');
    expect(await waitFor(() => !existsSync(pidFile), 10_000)).toBe(true);
    expect(
      await waitFor(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 5000),
    ).toBe(true);
    expect(readFileSync(log, 'utf8')).toMatch(/\] shutting down\n$/);
  });

  it('a log file on a full disk: said once, the daemon keeps working', async () => {
    const d = startKnockServer(lab, ['-i', lab.serverIf, '-c', conf, '-g', '/dev/full']);
    try {
      await waitFor(
        () => d.errors.some((l) => l.includes('cannot write log file /dev/full')),
        5000,
      );
      await play(lab, [{ tcp: 7600, src: lab.extraClient4[1]! }]);
      expect(
        await waitFor(() => work.lines('fired').includes(`open one ${lab.extraClient4[1]}`), 5000),
      ).toBe(true);
      expect(d.errors.filter((l) => l.includes('cannot write log file'))).toHaveLength(1);
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('--capture-buffer sizes the kernel capture ring: 8 MiB by default, 2 MiB with --capture-buffer 2 (issue 15)', async () => {
    /** Bytes of the packet socket's ring mapped into the daemon (what RSS counts). */
    const ringBytes = (pid: number): number =>
      readFileSync(`/proc/${pid}/maps`, 'utf8')
        .split('\n')
        .filter((l) => / rw-s .* socket:\[\d+\]$/.test(l))
        .map((l) =>
          l
            .split(' ')[0]!
            .split('-')
            .map((x) => parseInt(x, 16)),
        )
        .reduce((sum, [from, to]) => sum + (to! - from!), 0);
    for (const [args, mib] of [
      [[], 8],
      [['--capture-buffer', '2'], 2],
    ] as const) {
      const d = startKnockServer(lab, ['-i', lab.serverIf, '-c', conf, '-v', ...args]);
      try {
        await d.line(`starting up, listening on ${lab.serverIf}`);
        // libpcap rounds the ring up to whole blocks (8 MiB + 128 KiB, 2 MiB + 32 KiB here).
        const ring = ringBytes(d.child.pid!);
        expect(ring, args.join(' ') || 'default').toBeGreaterThanOrEqual(mib * 1024 * 1024);
        expect(ring, args.join(' ') || 'default').toBeLessThan((mib + 0.5) * 1024 * 1024);
      } finally {
        expect(await d.stop()).toBe(0);
      }
    }
  });

  it('UseSyslog reaches the syslog socket: one message per entry, ident knockd', async () => {
    const socket = work.file('syslog.sock');
    // Node cannot bind a unix datagram socket: python3 plays syslogd.
    const listener = spawn(
      'python3',
      [
        '-c',
        'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("ready",flush=True)\nwhile True: print(s.recv(65536).decode(errors="replace"),flush=True)',
        socket,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const received: string[] = [];
    listener.stdout.on('data', (d: Buffer) =>
      received.push(...d.toString().split('\n').filter(Boolean)),
    );
    const syslogConf = work.write(
      'syslog.conf',
      `[options]\n  UseSyslog\n[one]\n  sequence = 7600\n  command = /bin/true\n`,
    );
    try {
      expect(await waitFor(() => received.includes('ready'), 5000)).toBe(true);
      const d = startKnockServer(lab, ['-i', lab.serverIf, '-c', syslogConf], {
        KNOCK_SERVER_SYSLOG_SOCKET: socket,
      });
      try {
        await waitFor(
          () => received.some((l) => l.endsWith('starting up, listening on ' + lab.serverIf)),
          5000,
        );
        await play(lab, [{ knock: [lab.server4, '7600'] }]);
        expect(
          await waitFor(
            () => received.some((l) => l.endsWith(`knockd: ${lab.client4}: one: OPEN SESAME`)),
            5000,
          ),
        ).toBe(true);
      } finally {
        expect(await d.stop()).toBe(0);
      }
      await waitFor(() => received.some((l) => l.endsWith('knockd: shutting down')), 10_000);
      const messages = received.filter((l) => l !== 'ready');
      for (const text of [
        `starting up, listening on ${lab.serverIf}`,
        `${lab.client4}: one: Stage 1`,
        `${lab.client4}: one: OPEN SESAME`,
        'one: running command: /bin/true',
        'shutting down',
      ])
        expect(
          messages.some(
            (l) =>
              /^<13>\w{3} [ \d]\d \d\d:\d\d:\d\d knockd: /.test(l) && l.endsWith(`knockd: ${text}`),
          ),
        ).toBe(true);
    } finally {
      listener.kill('SIGKILL');
    }
  });

  it('an interface deleted and re-created while running: logged, retried, recovered', async () => {
    const d = startKnockServer(lab, ['-i', lab.serverIf, '-c', conf, '-v']);
    try {
      await d.line(`starting up, listening on ${lab.serverIf}`);
      // Deleting one end of a veth pair deletes both.
      await lab.server.sh(`ip link del ${lab.serverIf}`);
      await d.line(
        new RegExp(`^capture failed: .*"${lab.serverIf}".*; retrying every 1 s$`),
        10_000,
      );
      await sleep(1500);
      expect(d.exitCode).toBeUndefined();
      await lab.client.sh(
        [
          `ip link add ${lab.clientIf} type veth peer name ${lab.serverIf} netns ${lab.server.name}`,
          `ip addr add ${lab.client4}/24 dev ${lab.clientIf}`,
          ...lab.extraClient4.map((a) => `ip addr add ${a}/24 dev ${lab.clientIf}`),
          `ip addr add ${lab.client6}/64 dev ${lab.clientIf} nodad`,
          `ip link set ${lab.clientIf} up`,
        ].join(' && '),
      );
      await lab.server.sh(
        [
          `ip addr add ${lab.server4}/24 dev ${lab.serverIf}`,
          `ip addr add ${lab.server6}/64 dev ${lab.serverIf} nodad`,
          `ip link set ${lab.serverIf} up`,
        ].join(' && '),
      );
      await serverLinkReady(lab);
      await d.line(`listening on ${lab.serverIf} again`, 10_000);
      await waitFor(
        async () => (await lab.client.exec(['ping', '-c1', '-W1', lab.server4])).code === 0,
        5000,
      );
      await play(lab, [{ knock: [lab.server4, '7600'] }]);
      expect(
        await waitFor(() => work.lines('fired').includes(`open one ${lab.client4}`), 5000),
      ).toBe(true);
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });
});
