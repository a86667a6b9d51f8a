/**
 * The built `knock` binary, black box, on loopback (no root needed): help and exit
 * codes, profile errors without stack traces, what a plain knock loads, and `knock
 * proxy` relaying over real pipes with half-close.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, knockBin } from './lab-tools.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A home with no profile file: the default file, ~/.config/knock/config.toml, is missing. */
const emptyHome = mkdtempSync(join(tmpdir(), 'knock-bin-home-'));
const noProfiles = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: emptyHome };
  delete env.KNOCK_CONFIG;
  delete env.XDG_CONFIG_HOME;
  return env;
};

function knock(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; node?: string[]; cwd?: string } = {},
) {
  return new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, [...(opts.node ?? []), knockBin, ...args], {
      env: opts.env ?? noProfiles(),
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

describe('the knock binary', () => {
  let dir: string;
  const servers: Server[] = [];
  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'knock-bin-'));
  });
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(emptyHome, { recursive: true, force: true });
  });

  it('-h teaches and exits 0; -V prints the version', async () => {
    const help = await knock(['-h']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: knock [options] HOST [PORT[:PROTO]...]');
    expect(help.stdout).toContain('Exit codes:');
    const version = await knock(['-V']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^knock \d+\.\d+\.\d+\n$/);
  });

  it('a bad argument: one message, exit 2, nothing on stdout', async () => {
    const result = await knock(['127.0.0.1', '70000']);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: 'knock: port 70000 is out of range (in "70000")\n  hint: ports go from 1 to 65535\n',
    });
  });

  it('no profile: exit 4 naming the file it looked in', async () => {
    const result = await knock(['ssh.example.test']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(
      `no profile for "ssh.example.test" (${emptyHome}/.config/knock/config.toml does not exist`,
    );
  });

  // issue 9 item 10
  it('a profile file named by -c or $KNOCK_CONFIG that does not exist: exit 3 naming it', async () => {
    for (const [args, env, via] of [
      [['-c', 'missing.toml', 'ssh.example.test'], noProfiles(), '-c/--config'],
      [['list', '-c', 'missing.toml'], noProfiles(), '-c/--config'],
      [['-c', 'missing.toml', 'list'], noProfiles(), '-c/--config'],
      [['proxy', '--config=missing.toml', '127.0.0.1', '9'], noProfiles(), '-c/--config'],
      [['ssh.example.test'], { ...noProfiles(), KNOCK_CONFIG: 'missing.toml' }, '$KNOCK_CONFIG'],
    ] as const) {
      const result = await knock([...args], { env });
      expect(result.code, args.join(' ')).toBe(3);
      expect(result.stdout).toBe('');
      expect(result.stderr.split('\n')[0]).toBe(
        `knock: the profile file missing.toml (named by ${via}) does not exist`,
      );
      if (via !== '$KNOCK_CONFIG') expect(result.stderr).not.toContain('$KNOCK_CONFIG,');
    }
  });

  // issue 9 item 10
  it.each([[''], ['a b'], ['tab\there'], ['new\nline']])(
    'host %j: a usage error (exit 2) before anything is resolved',
    async (host) => {
      const result = await knock([host, '1228']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^knock: HOST (is empty|".*" is not a host name or address)/);
    },
  );

  // issue 9 item 8
  it.each([
    [['-d', '99999999999', '127.0.0.1', '9'], '-d 99999999999 is too long'],
    [['--delay=4294967296', '127.0.0.1', '9'], '-d 4294967296 is too long'],
    [['--verify', '--timeout', '99999999999', '127.0.0.1', '9'], '--timeout wants a number'],
    [['--timeout', '0.0001', '--verify=9', '127.0.0.1', '9'], '--timeout wants a number'],
    [['proxy', '--timeout', '3000000', '127.0.0.1', '22'], '--timeout wants a number'],
    [['ssh', '--timeout', '1e9', 'h'], '--timeout wants a number'],
    [['proxy', '127.0.0.1', '99999999999'], 'knock proxy: "99999999999" is not a port'],
    [['ots', 'generate', '--count', '99999999999', '--length', '2', 'x'], '--count wants'],
  ])('%j: refused naming the flag, no TimeoutOverflowWarning', async (args, message) => {
    const started = Date.now();
    const result = await knock(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain('TimeoutOverflowWarning');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a malformed profile file: exit 3 naming file and line, no stack trace', async () => {
    const file = join(dir, 'bad.toml');
    writeFileSync(file, '[hosts."a.test"]\nsequence = "1228,"\nport = 22\n');
    const result = await knock(['a.test'], { env: { ...process.env, KNOCK_CONFIG: file } });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`${file}:2`);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    // knock list still works (the other profiles would be listed) and warns about it;
    // knock check-profiles lists every problem and fails.
    const list = await knock(['list'], { env: { ...process.env, KNOCK_CONFIG: file } });
    expect(list.code).toBe(0);
    expect(list.stderr).toContain(`${file}:2:`);
    expect(list.stderr).toContain('knock check-profiles');
    const check = await knock(['check-profiles'], { env: { ...process.env, KNOCK_CONFIG: file } });
    expect(check.code).toBe(3);
    expect(check.stdout).toContain(`${file}:2:`);
  });

  it('knock list shows a real profile file', async () => {
    const file = join(dir, 'good.toml');
    writeFileSync(file, '[hosts."ssh.maths.fr"]\nsequence = "1228,1227:udp"\nport = 22\n');
    const result = await knock(['list'], { env: { ...process.env, KNOCK_CONFIG: file } });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `profiles in ${file}:\n  ssh.maths.fr  1228,1227:udp  port 22  any\n`,
    );
  });

  it('a plain knock loads neither ink nor React; knock ui does', async () => {
    const hook = join(dir, 'hook.mjs');
    writeFileSync(
      hook,
      'export async function resolve(s, c, next) { const r = await next(s, c); process._rawDebug(`LOADED ${r.url}`); return r; }\n',
    );
    const node = [
      '--import',
      `data:text/javascript,import{register}from"node:module";register(${JSON.stringify(`file://${hook}`)})`,
    ];
    const plain = await knock(['127.0.0.1', '9', '9:udp'], { node });
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain('LOADED');
    expect(plain.stderr).not.toMatch(/node_modules\/(ink|react)\//);
    // Without a terminal the TUI stops before ink; its module (and React) still load.
    const ui = await knock(['ui'], { node });
    expect(ui.stderr).toMatch(/node_modules\/(ink|react)\//);
  });

  it('a plain knock loads neither commander nor a subcommand; options load commander, a subcommand only its own module', async () => {
    const hook = join(dir, 'hook-modules.mjs');
    writeFileSync(
      hook,
      'export async function resolve(s, c, next) { const r = await next(s, c); process._rawDebug(`LOADED ${r.url}`); return r; }\n',
    );
    const node = [
      '--import',
      `data:text/javascript,import{register}from"node:module";register(${JSON.stringify(`file://${hook}`)})`,
    ];
    const loaded = (stderr: string) =>
      [...stderr.matchAll(/^LOADED file:\/\/.*\/(node_modules\/commander|dist\/[\w/-]+\.js)/gm)]
        .map((m) => m[1]!.replace(/^dist\//, ''))
        .filter((m) => /commander|commands\//.test(m));
    const subcommands = ['list', 'ots', 'ssh', 'proxy', 'ui'].map((c) => `commands/${c}.js`);

    const plain = await knock(['127.0.0.1', '9', '9:udp'], { node });
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain('dist/commands/knock.js');
    expect(loaded(plain.stderr)).toEqual(['commands/knock.js']);

    const verbose = await knock(['-v', '127.0.0.1', '9'], { node });
    expect(verbose.stdout).toBe('hitting tcp 127.0.0.1:9\n');
    expect(loaded(verbose.stderr)).toContain('node_modules/commander');
    for (const module of subcommands) expect(loaded(verbose.stderr)).not.toContain(module);

    const list = await knock(['list'], { node });
    expect(list.code).toBe(0);
    expect(loaded(list.stderr)).toContain('commands/list.js');
    for (const module of subcommands.filter((m) => m !== 'commands/list.js'))
      expect(loaded(list.stderr)).not.toContain(module);
  });

  it('knock proxy: only relayed bytes on stdout, half-close both ways, exit 0', async () => {
    let received = 0;
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('data', (d: Buffer) => (received += d.length));
      socket.on('end', () => socket.end(`received ${received}\n`));
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const input = 'x'.repeat(1024 * 1024);
    const result = await knock(['proxy', '127.0.0.1', String(port)], { input });
    expect(result).toEqual({ code: 0, stdout: `received ${input.length}\n`, stderr: '' });
  });

  it('knock proxy to a closed port after knocking: exit 7, the reason on stderr, stdout empty', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    server.close();
    const result = await knock([
      'proxy',
      '--sequence',
      '9',
      '--timeout',
      '0.5',
      '127.0.0.1',
      String(port),
    ]);
    expect(result.code).toBe(7);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      `127.0.0.1:${port} is still closed after 0.5 s (connection refused)`,
    );
  });

  it('knock ots generate into a missing folder: exit 9, no temporary file name', async () => {
    const target = join(dir, 'no-such-dir', 'x.ots');
    const result = await knock(['ots', 'generate', '--count', '1', '--length', '1', target]);
    expect(result.code).toBe(9);
    expect(result.stderr.split('\n')[0]).toBe(
      `knock: cannot write ${target}: its folder does not exist`,
    );
    expect(result.stderr).not.toContain('.tmp');
  });

  // issue 9 item 7
  it('knock proxy for a host with no profile: a refused port fails at once, and nothing claims a knock', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    server.close();
    const started = Date.now();
    const result = await knock(['proxy', '127.0.0.1', String(port)]);
    const elapsed = Date.now() - started;
    expect(result.code).toBe(6);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toBe(
      `knock: cannot connect to 127.0.0.1:${port}: connection refused`,
    );
    expect(result.stderr).not.toMatch(/knocked 127|still closed/);
    expect(result.stderr).toContain('nothing was knocked');
    // Not the 5 s verify wait: one attempt.
    expect(elapsed).toBeLessThan(2500);
  });

  // issue 9 item 7
  it('knock proxy for a host with no profile connects at once and says nothing (unless -v)', async () => {
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('data', () => undefined);
      socket.on('end', () => socket.end('ok\n'));
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = String((server.address() as { port: number }).port);
    expect(await knock(['proxy', '127.0.0.1', port], { input: 'x' })).toEqual({
      code: 0,
      stdout: 'ok\n',
      stderr: '',
    });
    const verbose = await knock(['proxy', '-v', '127.0.0.1', port], { input: 'x' });
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toContain('no profile for "127.0.0.1": connecting without knocking');
  });

  // issue 9 item 9
  describe('one-time sequences of a profile', () => {
    let conf: string;
    let env: NodeJS.ProcessEnv;
    beforeAll(() => {
      conf = join(dir, 'conf');
      mkdirSync(conf, { recursive: true });
      writeFileSync(
        join(conf, 'config.toml'),
        '[hosts."127.0.0.1"]\none_time_sequences = "vpn.ots"\n',
      );
      env = { ...noProfiles(), KNOCK_CONFIG: join(conf, 'config.toml') };
    });

    it("a relative path is read from the profile file's folder, not the working directory", async () => {
      writeFileSync(join(conf, 'vpn.ots'), ' 9,9:udp\n 10\n');
      const result = await knock(['127.0.0.1'], { env, cwd: emptyHome });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(readFileSync(join(conf, 'vpn.ots'), 'utf8')).toBe('#9,9:udp\n 10\n');
    });

    it('a malformed line is a line-level error, exit 9, naming the file as written', async () => {
      writeFileSync(join(conf, 'vpn.ots'), ' 1228,abc\n');
      const result = await knock(['127.0.0.1'], { env, cwd: emptyHome });
      expect(result.code).toBe(9);
      expect(result.stderr).toContain('vpn.ots:1:7: error:');
      expect(result.stderr).not.toContain('no unused sequence left');
      expect(readFileSync(join(conf, 'vpn.ots'), 'utf8')).toBe(' 1228,abc\n');
    });

    it('a held lock: "waiting for the lock held by process N" after a second, then it goes on', async () => {
      writeFileSync(join(conf, 'vpn.ots'), ' 9\n 10\n');
      const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 2500)']);
      try {
        writeFileSync(join(conf, 'vpn.ots.lock'), `${holder.pid}\n`);
        const started = Date.now();
        const result = await knock(['127.0.0.1'], { env, cwd: emptyHome });
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toBe(
          `knock: waiting for the lock on vpn.ots held by process ${holder.pid} (${join(conf, 'vpn.ots.lock')})\n`,
        );
        expect(Date.now() - started).toBeGreaterThan(1000);
        expect(readFileSync(join(conf, 'vpn.ots'), 'utf8')).toBe('#9\n 10\n');
      } finally {
        holder.kill();
      }
    });
  });

  it('knock ssh runs ssh on the knocked address, forwards SIGTERM, ignores SIGINT, exits with its status', async () => {
    const server = createServer((socket) => socket.destroy());
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    // A stand-in for ssh: answers -G like ssh, then waits for a signal.
    const bin = join(dir, 'bin');
    const fakeSsh = join(bin, 'ssh');
    await import('node:fs').then((fs) => fs.mkdirSync(bin, { recursive: true }));
    writeFileSync(
      fakeSsh,
      [
        '#!/bin/sh',
        'if [ "$1" = "-G" ]; then',
        `  printf 'host h\\nhostname 127.0.0.1\\nport ${port}\\naddressfamily any\\n'`,
        '  exit 0',
        'fi',
        "trap 'kill $!; echo got-term; exit 42' TERM",
        "trap 'echo got-int' INT",
        'echo "args: $*"',
        'sleep 30 >/dev/null 2>&1 & wait; wait',
        '',
      ].join('\n'),
    );
    chmodSync(fakeSsh, 0o755);
    const child = spawn(process.execPath, [knockBin, 'ssh', '--sequence', '9', 'h', 'uptime'], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const started = Date.now();
    while (!stdout.includes('args:') && Date.now() - started < 10_000)
      await new Promise((r) => setTimeout(r, 50));
    expect(stdout).toBe(
      `args: -o HostName=127.0.0.1 -o HostKeyAlias=[127.0.0.1]:${port} h uptime\n`,
    );
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await exited).toBe(42);
    expect(stdout).toContain('got-term');
    expect(stdout).not.toContain('got-int');
  });
});
