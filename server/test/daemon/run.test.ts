import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, parseConfig } from '@knock/shared';
import { defaultServerOptions, type ServerOptions } from '../../src/cli/options.js';
import {
  resolveSettings,
  runServer,
  type ProcessDeps,
  type ServerDeps,
} from '../../src/daemon/run.js';
import { FakeActions, FakeCapture, FakeClock, FakeOts, knock } from './fakes.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'knock-run-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Polls (bounded) until the daemon has opened its capture, or `check` holds. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const options = (extra: Partial<ServerOptions>): ServerOptions => ({
  ...defaultServerOptions(),
  ...extra,
});

describe('resolveSettings: knockd precedence', () => {
  const cfg = (text: string) => parseConfig(text).config;
  const byRoute = () => Promise.resolve('ens3');

  it('-i wins over Interface; Interface over the default-route interface', async () => {
    const withIf = cfg('[options]\n Interface = eth1,eth2\n[d]\n sequence = 1\n');
    expect(
      (await resolveSettings(options({ interfaces: ['wlan0'] }), withIf, byRoute)).interfaces,
    ).toEqual(['wlan0']);
    expect((await resolveSettings(options({}), withIf, byRoute)).interfaces).toEqual([
      'eth1',
      'eth2',
    ]);
    expect(
      (await resolveSettings(options({}), cfg('[d]\n sequence = 1\n'), byRoute)).interfaces,
    ).toEqual(['ens3']);
  });

  it('LogFile and PidFile in the config win over -g and -p (knockd order)', async () => {
    const withFiles = cfg(
      '[options]\n LogFile = /var/log/k.log\n PidFile = /run/k.pid\n[d]\n sequence = 1\n',
    );
    const s = await resolveSettings(
      options({ logfile: '/tmp/g.log', pidfile: '/tmp/p.pid' }),
      withFiles,
      byRoute,
    );
    expect(s).toMatchObject({ logFile: '/var/log/k.log', pidFile: '/run/k.pid' });
    const bare = cfg('[d]\n sequence = 1\n');
    expect(
      await resolveSettings(
        options({ logfile: '/tmp/g.log', pidfile: '/tmp/p.pid' }),
        bare,
        byRoute,
      ),
    ).toMatchObject({
      logFile: '/tmp/g.log',
      pidFile: '/tmp/p.pid',
    });
  });

  it('a pidfile only with -d (default /var/run/knockd.pid) or when one is named', async () => {
    const bare = cfg('[d]\n sequence = 1\n');
    expect((await resolveSettings(options({}), bare, byRoute)).pidFile).toBeUndefined();
    expect((await resolveSettings(options({ daemon: true }), bare, byRoute)).pidFile).toBe(
      '/var/run/knockd.pid',
    );
  });
});

function harness(configText: string) {
  const configPath = join(dir, 'knockd.conf');
  writeFileSync(configPath, configText);
  const signals = new EventEmitter();
  const out: string[] = [];
  const err: string[] = [];
  const proc: ProcessDeps = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
    selfArgv: [],
    signals: signals as unknown as ProcessDeps['signals'],
  };
  const capture = new FakeCapture();
  const actions = new FakeActions();
  const ports: ServerDeps = {
    capture,
    ots: new FakeOts(),
    defaultInterface: () => Promise.resolve('vs0'),
    createActions: () => Promise.resolve(actions),
  };
  return { configPath, signals, out, err, proc, capture, actions, ports };
}

const SSH = '[ssh]\n sequence = 7000,8000\n command = true\n';

describe('runServer', () => {
  it('runs in the foreground: pidfile, -v lines, SIGHUP reload, SIGTERM clean stop', async () => {
    const h = harness(SSH);
    const pidFile = join(dir, 'k.pid');
    const logFile = join(dir, 'k.log');
    const done = runServer(
      options({ config: h.configPath, pidfile: pidFile, logfile: logFile, verbose: true }),
      h.proc,
      h.ports,
    );
    await until(() => existsSync(pidFile));
    expect(readFileSync(pidFile, 'utf8')).toBe(`${process.pid}\n`);
    const clock = new FakeClock();
    clock.time = Date.now();
    for (const port of [7000, 8000]) h.capture.source.emit(knock(clock, '192.0.2.1', port));
    expect(h.out).toEqual([
      'starting up, listening on vs0\n',
      '192.0.2.1: ssh: Stage 1\n',
      '192.0.2.1: ssh: Stage 2\n',
      '192.0.2.1: ssh: OPEN SESAME\n',
    ]);
    h.signals.emit('SIGHUP');
    await until(() => h.out.length > 4);
    expect(h.out.at(-1)).toBe(`re-reading config file: ${h.configPath}\n`);
    h.signals.emit('SIGTERM');
    await done;
    expect(h.out.at(-1)).toBe('shutting down\n');
    expect(h.actions.events).toEqual(['runAllPendingNow', 'close']);
    expect(existsSync(pidFile)).toBe(false);
    expect(h.signals.listenerCount('SIGTERM')).toBe(0);
    const logged = readFileSync(logFile, 'utf8').split('\n');
    expect(logged[0]).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d\] starting up, listening on vs0$/);
    expect(logged.at(-2)).toMatch(/\] shutting down$/);
    expect(logged.filter((l) => l === '')).toHaveLength(1); // only the final newline: no blank lines
  });

  it('signals during the start are not lost: SIGHUP reloads after it, SIGTERM stops after it', async () => {
    const h = harness(SSH);
    h.ports.createActions = () => {
      h.signals.emit('SIGHUP');
      return Promise.resolve(h.actions);
    };
    const run = runServer(options({ config: h.configPath, verbose: true }), h.proc, h.ports);
    await until(() => h.out.includes(`re-reading config file: ${h.configPath}\n`));
    expect(h.out[0]).toBe('starting up, listening on vs0\n');
    h.signals.emit('SIGTERM');
    await run;

    const t = harness(SSH);
    t.ports.createActions = () => {
      t.signals.emit('SIGTERM');
      return Promise.resolve(t.actions);
    };
    await runServer(options({ config: t.configPath, verbose: true }), t.proc, t.ports);
    expect(t.out).toEqual(['starting up, listening on vs0\n', 'shutting down\n']);
    expect(t.signals.listenerCount('SIGHUP')).toBe(0);
  });

  it('a config with errors: every problem printed, exit code config, nothing started', async () => {
    const h = harness('[ssh]\n sequence = 7000:icmp\n bogus = 1\n');
    await expect(
      runServer(options({ config: h.configPath }), h.proc, h.ports),
    ).rejects.toMatchObject({
      exitCode: ExitCode.config,
    });
    expect(h.err.join('')).toMatch(new RegExp(`${h.configPath}:2:\\d+: error: `));
    expect(h.err.join('')).toMatch(new RegExp(`${h.configPath}:3:`));
    expect(h.capture.opens).toEqual([]);
  });

  it('refuses to start over a live pidfile, before opening the capture', async () => {
    const h = harness(SSH);
    const pidFile = join(dir, 'k.pid');
    // Another live knock daemon (its command line says knock-server) owns the pidfile.
    const other = spawn('bash', ['-c', 'exec -a knock-server sleep 30'], { stdio: 'ignore' });
    try {
      await new Promise((done) => setTimeout(done, 200));
      writeFileSync(pidFile, `${other.pid}\n`);
      await expect(
        runServer(options({ config: h.configPath, pidfile: pidFile }), h.proc, h.ports),
      ).rejects.toMatchObject({
        exitCode: ExitCode.alreadyRunning,
      });
      expect(h.capture.opens).toEqual([]);
      expect(readFileSync(pidFile, 'utf8')).toBe(`${other.pid}\n`);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('a log file that cannot be written: said once on stderr, the daemon works on', async () => {
    const h = harness(SSH);
    const done = runServer(
      options({ config: h.configPath, logfile: '/dev/full' }),
      h.proc,
      h.ports,
    );
    await until(() => h.capture.sources.length > 0);
    const clock = new FakeClock();
    clock.time = Date.now();
    for (const port of [7000, 8000]) h.capture.source.emit(knock(clock, '192.0.2.1', port));
    await until(() => h.err.length > 0);
    expect(h.actions.opened).toHaveLength(1);
    expect(h.err.filter((l) => l.includes('cannot write log file /dev/full'))).toHaveLength(1);
    h.signals.emit('SIGINT');
    await done;
  });

  it('a failed start writes why to the log, naming the pidfile asked for, not a temp file (issue 9 item 13)', async () => {
    const h = harness(SSH);
    const logFile = join(dir, 'k.log');
    const pidFile = join(dir, 'no', 'such', 'k.pid');
    const failure = await runServer(
      options({ config: h.configPath, logfile: logFile, pidfile: pidFile }),
      h.proc,
      h.ports,
    ).catch((error: unknown) => error as Error);
    expect(failure).toMatchObject({ code: 'server.pidfile' });
    expect(failure?.message).toContain(`'${pidFile}'`);
    expect(failure?.message).not.toMatch(/\.tmp|\.k\.pid\./);
    const logged = readFileSync(logFile, 'utf8').trim().split('\n');
    expect(logged.at(-2)).toMatch(
      new RegExp(`\\] knock-server did not start: could not create pid file ${pidFile}: ENOENT`),
    );
    expect(logged.at(-2)).not.toContain('.tmp');
    expect(logged.at(-1)).toMatch(/\] shutting down$/);
  });
});
