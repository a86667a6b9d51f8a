/**
 * The built `knock` binary, black box, on loopback (no root needed): help and exit
 * codes, profile errors without stack traces, what a plain knock loads, and `knock
 * proxy` relaying over real pipes with half-close.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

function knock(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; node?: string[] } = {},
) {
  return new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, [...(opts.node ?? []), knockBin, ...args], {
      env: opts.env ?? { ...process.env, KNOCK_CONFIG: '/nonexistent/knock.toml' },
      stdio: ['pipe', 'pipe', 'pipe'],
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
      'no profile for "ssh.example.test" (/nonexistent/knock.toml does not exist',
    );
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

  it('knock proxy to a closed port: exit 7, the reason on stderr, stdout empty', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    server.close();
    const result = await knock(['proxy', '--timeout', '0.5', '127.0.0.1', String(port)]);
    expect(result.code).toBe(7);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      `127.0.0.1:${port} is still closed after 0.5 s (connection refused)`,
    );
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
