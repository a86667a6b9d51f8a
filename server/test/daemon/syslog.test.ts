/**
 * UseSyslog must really reach syslog: a unix datagram socket (Node cannot bind one,
 * so a tiny python3 listener plays syslogd) receives what the logger child sends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyslogSink } from '../../src/daemon/syslog.js';

const python = '/usr/bin/python3';
const canRun = existsSync('/usr/bin/logger') && existsSync('/usr/bin/python3');

const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
while True:
    data = s.recv(65536)
    print(data.decode(errors="replace"), flush=True)
`;

interface Listener {
  child: ChildProcess;
  lines: string[];
}

async function listen(path: string): Promise<Listener> {
  const child = spawn(python, ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) {
        if (line === 'ready') resolve();
        else lines.push(line);
      }
    });
  });
  return { child, lines };
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return check();
};

describe.skipIf(!canRun)('SyslogSink (needs util-linux logger and python3)', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'knock-syslog-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends each entry as one message, ident knockd, user.notice (errors at user.err)', async () => {
    const socket = join(dir, 'log');
    const listener = await listen(socket);
    children.push(listener.child);
    const warnings: string[] = [];
    const sink = new SyslogSink({ socket, warn: (t) => warnings.push(t) });
    sink.write({ level: 'info', event: 'stage', msg: '192.0.2.1: ssh: Stage 1' });
    sink.write({
      level: 'info',
      event: 'timeout',
      msg: '192.0.2.1: ssh: sequence timeout (stage 1)',
    });
    sink.write({ level: 'error', event: 'error', msg: 'capture failed\non two lines' });
    expect(await until(() => listener.lines.length >= 3)).toBe(true);
    expect(listener.lines[0]).toMatch(
      /^<13>\w{3} [ \d]\d \d\d:\d\d:\d\d knockd: 192\.0\.2\.1: ssh: Stage 1$/,
    );
    expect(listener.lines[1]).toMatch(/knockd: 192\.0\.2\.1: ssh: sequence timeout \(stage 1\)$/);
    expect(listener.lines[2]).toMatch(/^<11>.* knockd: capture failed on two lines$/);
    await sink.closed();
    expect(warnings).toEqual([]);
  });

  it('when syslog is missing it reports once, keeps lines, and delivers them when it comes back', async () => {
    const socket = join(dir, 'log');
    const warnings: string[] = [];
    const sink = new SyslogSink({ socket, warn: (t) => warnings.push(t) });
    sink.write({ level: 'info', event: 'start', msg: 'starting up, listening on vs0' });
    expect(await until(() => warnings.length > 0)).toBe(true);
    expect(warnings[0]).toContain(`cannot send to syslog (${socket})`);
    sink.write({ level: 'info', event: 'stage', msg: 'kept while down' });
    const listener = await listen(socket);
    children.push(listener.child);
    expect(await until(() => listener.lines.some((l) => l.endsWith('kept while down')), 8000)).toBe(
      true,
    );
    expect(warnings.filter((w) => w.startsWith('cannot send'))).toHaveLength(1);
    await sink.closed();
  }, 15_000);
});
