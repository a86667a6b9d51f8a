import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { ExitCode, KnockError } from '@knock/shared';
import {
  metricsCommand,
  resolveSocket,
  statusCommand,
  type StatusDeps,
} from '../../src/cli/status.js';
import type { ControlCommand, Response, StatusDocument } from '../../src/control/protocol.js';
import { applySeams } from '../../src/cli/program.js';

const dir = mkdtempSync(join(tmpdir(), 'knock-status-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const doc = {
  version: '1.0.0',
  pid: 7,
  startedAt: 0,
  now: 65_000,
  config: {
    path: '/etc/knockd.conf',
    loadedAt: 0,
    reloads: { ok: 1, failed: 1 },
    lastReload: { at: 5000, ok: false, message: '1 error in the config' },
  },
  interfaces: [{ name: 'eth0', capturing: false }],
  captureLost: true,
  capture: { received: 10, kernelDropped: 1, interfaceDropped: 0 },
  packets: 9,
  doors: [],
  attempts: { inProgress: 0, capacity: 1024, max: 1000, evictions: 0 },
  pendingStops: { count: 0, first: [] },
  commands: { run: 0, failed: 0, killed: 0 },
  firewall: { grants: 0, bans: 0, grantsActive: 0, bansActive: 0, failures: 0 },
  log: [],
  memory: { rss: 1048576 * 50, heapUsed: 0, heapTotal: 0, external: 0 },
} satisfies StatusDocument;

function run(args: string[], deps: Partial<StatusDeps> = {}) {
  const out: string[] = [];
  const asked: [string, ControlCommand][] = [];
  const program = new Command('knock-server').enablePositionalOptions();
  const full: StatusDeps = {
    stdout: (t) => out.push(t),
    stderr: (t) => out.push(t),
    request: (path, cmd) => {
      asked.push([path, cmd]);
      return Promise.resolve(
        cmd === 'status' ? { ok: true, status: doc } : { ok: true, metrics: 'm 1\n' },
      );
    },
    ...deps,
  };
  program.addCommand(statusCommand(full));
  program.addCommand(metricsCommand(full));
  applySeams(program, full);
  return {
    out,
    asked,
    done: program.parseAsync(args, { from: 'user' }),
  };
}

describe('knock-server status and metrics', () => {
  it('prints the status for people, or as JSON', async () => {
    const people = run(['status', '-s', '/run/x.sock']);
    await people.done;
    expect(people.asked).toEqual([['/run/x.sock', 'status']]);
    const text = people.out.join('');
    expect(text).toContain('knock-server 1.0.0, pid 7, up 1m 5s (memory 50.0 MB RSS)');
    expect(text).toContain(
      'reloads    1 ok, 1 failed; last 1m 0s ago: FAILED: 1 error in the config',
    );
    expect(text).toContain('interfaces eth0 (NOT capturing: retrying)');
    expect(text).toContain('10 received, 1 dropped by the kernel, 0 dropped by the interface');
    const json = run(['status', '--json', '-s', '/run/x.sock']);
    await json.done;
    expect(JSON.parse(json.out.join(''))).toEqual(doc);
  });

  it('--watch refreshes until stopped, and keeps watching when the daemon goes away', async () => {
    let calls = 0;
    let sleeps = 0;
    const watch = run(['status', '--watch', '--json', '-s', '/run/x.sock'], {
      request: () => {
        calls++;
        if (calls === 2)
          return Promise.reject(new KnockError('control.noDaemon', 'no knock-server is running'));
        return Promise.resolve({ ok: true, status: doc } as Response);
      },
      sleep: () => Promise.resolve(++sleeps < 3),
    });
    await watch.done;
    expect(calls).toBe(3);
    expect(watch.out).toHaveLength(3);
    expect(JSON.parse(watch.out[0]!)).toEqual(doc);
    expect(watch.out[1]).toMatch(/no knock-server is running/);
  });

  it('prints the metrics text as the daemon sent it', async () => {
    const m = run(['metrics', '-s', '/run/x.sock']);
    await m.done;
    expect(m.out.join('')).toBe('m 1\n');
  });

  it("reports the daemon's refusal as an error", async () => {
    const r = run(['status', '-s', '/x'], {
      request: () => Promise.resolve({ ok: false, error: 'nope' }),
    });
    await expect(r.done).rejects.toMatchObject({
      exitCode: ExitCode.failure,
      message: 'knock-server (/x) answered: nope',
    });
  });

  it('finds the socket: --socket, else Control_Socket in -c FILE, else the default', async () => {
    expect(await resolveSocket({ socket: '/a.sock', config: '/nonexistent' })).toBe('/a.sock');
    const conf = join(dir, 'k.conf');
    writeFileSync(conf, '[options]\n  Control_Socket = /run/k2.sock\n[d]\n  sequence = 1\n');
    expect(await resolveSocket({ config: conf })).toBe('/run/k2.sock');
    writeFileSync(conf, '[d]\n  sequence = 1\n');
    expect(await resolveSocket({ config: conf })).toBe('/run/knock-server.sock');
    writeFileSync(conf, '[options]\n  Control_Socket = none\n');
    await expect(resolveSocket({ config: conf })).rejects.toMatchObject({
      code: 'control.disabled',
      exitCode: ExitCode.config,
    });
    await expect(resolveSocket({ config: join(dir, 'missing.conf') })).rejects.toMatchObject({
      code: 'control.config',
      exitCode: ExitCode.config,
    });
  });
});
