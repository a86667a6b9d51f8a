import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import type { ServerOptions } from '../../src/cli/options.js';
import { createProgram } from '../../src/cli/program.js';

function harness() {
  const out: string[] = [];
  const err: string[] = [];
  const runs: ServerOptions[] = [];
  const program = createProgram({
    version: '1.2.3',
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    runServer: (o) => {
      runs.push(o);
      return Promise.resolve();
    },
  });
  const run = async (...args: string[]) => {
    try {
      await program.parseAsync(args, { from: 'user' });
      return { code: 0 as number, error: undefined as unknown };
    } catch (error) {
      if (error instanceof CommanderError) return { code: error.exitCode, error: error as unknown };
      if (error instanceof KnockError)
        return { code: error.exitCode as number, error: error as unknown };
      throw error;
    }
  };
  return { out, err, runs, run, stdout: () => out.join(''), stderr: () => err.join('') };
}

describe('knock-server flags', () => {
  it('no flags: foreground, /etc/knockd.conf, text log, default cap', async () => {
    const h = harness();
    expect((await h.run()).code).toBe(0);
    expect(h.runs).toEqual([
      {
        daemon: false,
        config: '/etc/knockd.conf',
        debug: false,
        verbose: false,
        lookup: false,
        onlyIpv4: false,
        logFormat: 'text',
        maxAttempts: 1_000_000,
      },
    ]);
  });

  it("knockd's short flags mean what they mean in knockd", async () => {
    const h = harness();
    await h.run(
      '-i',
      'eth1',
      '-d',
      '-c',
      '/tmp/k.conf',
      '-D',
      '-v',
      '-l',
      '-p',
      '/run/k.pid',
      '-g',
      '/tmp/k.log',
      '-4',
    );
    expect(h.runs[0]).toEqual({
      interfaces: ['eth1'],
      daemon: true,
      config: '/tmp/k.conf',
      debug: true,
      verbose: true,
      lookup: true,
      pidfile: '/run/k.pid',
      logfile: '/tmp/k.log',
      onlyIpv4: true,
      logFormat: 'text',
      maxAttempts: 1_000_000,
    });
  });

  it('the long flags, bundled short flags, and our extras', async () => {
    const h = harness();
    await h.run(
      '--interface=eth0,wlan0',
      '--daemon',
      '--config',
      'a.conf',
      '--debug',
      '--verbose',
      '--lookup',
      '--pidfile',
      'p',
      '--logfile',
      'l',
      '--only-ip-v4',
      '--log-format',
      'json',
      '--max-attempts',
      '5000',
      '--capture-buffer',
      '2',
    );
    expect(h.runs[0]).toMatchObject({
      interfaces: ['eth0', 'wlan0'],
      daemon: true,
      config: 'a.conf',
      debug: true,
      verbose: true,
      lookup: true,
      pidfile: 'p',
      logfile: 'l',
      onlyIpv4: true,
      logFormat: 'json',
      maxAttempts: 5000,
      captureBuffer: 2,
    });
    const bundled = harness();
    await bundled.run('-vD4', '-i', 'eth0', '-i', 'eth1');
    expect(bundled.runs[0]).toMatchObject({
      verbose: true,
      debug: true,
      onlyIpv4: true,
      interfaces: ['eth0', 'eth1'],
    });
  });

  it('an unknown flag is an error naming it, exit 2 (knockd exits 0: a bug)', async () => {
    const h = harness();
    const result = await h.run('--bogus');
    expect(result.code).toBe(ExitCode.usage);
    expect((result.error as CommanderError).code).toBe('commander.unknownOption');
    expect(h.stderr()).toContain("unknown option '--bogus'");
    expect(h.runs).toEqual([]);
  });

  it('bad values are usage errors that say what is expected', async () => {
    for (const args of [
      ['--log-format', 'xml'],
      ['--max-attempts', '0'],
      ['--max-attempts', 'many'],
      ['-i', 'eth0,,eth1'],
      ['-c'],
      ['stray-argument'],
    ]) {
      const h = harness();
      const result = await h.run(...args);
      expect(result.code, args.join(' ')).toBe(ExitCode.usage);
      expect(h.runs).toEqual([]);
    }
    const h = harness();
    await h.run('--max-attempts', 'many');
    expect(h.stderr()).toContain(
      '--max-attempts takes a whole number from 1 to 100000000 (got "many")',
    );
  });

  it('-V prints the version, knockd compatibility included, exit 0', async () => {
    const h = harness();
    expect((await h.run('-V')).code).toBe(0);
    expect(h.stdout()).toBe('knock-server 1.2.3 (knockd 0.8 compatible)\n');
    expect(h.runs).toEqual([]);
  });

  it('-h teaches: flags, examples, config path, signals, exit codes', async () => {
    const h = harness();
    expect((await h.run('-h')).code).toBe(0);
    const help = h.stdout();
    for (const flag of [
      '-i, --interface',
      '-d, --daemon',
      '-c, --config',
      '-D, --debug',
      '-v, --verbose',
      '-l, --lookup',
      '-p, --pidfile',
      '-g, --logfile',
      '-4, --only-ip-v4',
      '-V, --version',
      '-h, --help',
      '--log-format',
      '--max-attempts',
      '--capture-buffer',
    ])
      expect(help).toContain(flag);
    expect(help).toContain('Examples:');
    expect(help).toContain('/etc/knockd.conf');
    expect(help).toMatch(/SIGHUP\s+re-read the config/);
    expect(help).toMatch(/SIGTERM, SIGINT\s+run pending stop commands now/);
    expect(help).toMatch(/Exit codes:\n\s+0\s+success/);
    expect(help).toMatch(/12\s+another knock-server runs with this pidfile/);
    for (const sub of ['check', 'ots']) expect(help).toContain(sub);
  });

  it('errors of the daemon come through as they are (the bin maps them)', async () => {
    const program = createProgram({
      version: '0',
      stdout: () => undefined,
      stderr: () => undefined,
      runServer: () =>
        Promise.reject(
          new KnockError('capture.noDevice', 'no such device', { exitCode: ExitCode.capture }),
        ),
    });
    await expect(program.parseAsync([], { from: 'user' })).rejects.toMatchObject({
      exitCode: ExitCode.capture,
    });
  });
});

describe('knock-server check', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'knock-check-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a valid config: OK, exit 0', async () => {
    const file = join(dir, 'knockd.conf');
    writeFileSync(
      file,
      '[options]\n  UseSyslog\n[ssh]\n  sequence = 7000,8000\n  command = true\n',
    );
    const h = harness();
    expect((await h.run('check', '-c', file)).code).toBe(0);
    expect(h.stdout()).toMatch(
      new RegExp(`^${file}: OK, 1 door\n  not checked here: opening the capture`),
    );
  });

  it('prints every problem with file:line:col and a hint, exit 1', async () => {
    const file = join(dir, 'knockd.conf');
    writeFileSync(file, '[ssh]\n  sequence = 7000,8000:icmp\n  frobnicate = 1\n');
    const h = harness();
    const result = await h.run('check', '-c', file);
    expect(result.code).toBe(ExitCode.failure);
    const lines = h.stdout().split('\n');
    expect(
      lines.some(
        (l) => l.startsWith(`${file}:2:`) && l.includes(': error: ') && l.includes('icmp'),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith(`${file}:3:`) && l.includes(': error: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('  hint: '))).toBe(true);
    expect((result.error as KnockError).message).toMatch(/2 errors/);
  });

  it('a missing config file says so, exit 1', async () => {
    const h = harness();
    const file = join(dir, 'nope.conf');
    expect((await h.run('check', '-c', file)).code).toBe(ExitCode.failure);
    expect(h.stdout()).toContain(`${file}: error: cannot read the config file: no such file`);
  });

  it('checks the one-time-sequence files a door names', async () => {
    const file = join(dir, 'knockd.conf');
    writeFileSync(
      file,
      `[otp]\n  one_time_sequences = ${join(dir, 'missing.ots')}\n  command = true\n`,
    );
    const h = harness();
    expect((await h.run('check', '-c', file)).code).toBe(ExitCode.failure);
    expect(h.stdout()).toMatch(
      new RegExp(
        `^${file.replace(/[.]/g, '\\.')}:1: error: door \\[otp\\]: cannot read the one-time-sequences file`,
      ),
    );
  });

  it('a one-time-sequence file with sequences passes; a used-up one is an error', async () => {
    const ots = join(dir, 'ssh.ots');
    const file = join(dir, 'knockd.conf');
    writeFileSync(file, `[otp]\n  one_time_sequences = ${ots}\n  command = true\n`);
    writeFileSync(ots, '#7000,8000\n 7001,8001\n');
    const ok = harness();
    expect((await ok.run('check', '-c', file)).code).toBe(0);
    writeFileSync(ots, '#7000,8000\n#7001,8001\n');
    const used = harness();
    expect((await used.run('check', '-c', file)).code).toBe(ExitCode.failure);
    expect(used.stdout()).toContain(
      `${file}:1: error: door [otp]: the one-time-sequences file ${ots} has no unused sequence left`,
    );
  });

  it('an unknown flag of check is exit 2 too', async () => {
    const h = harness();
    expect((await h.run('check', '--frob')).code).toBe(ExitCode.usage);
  });
});
