import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { installServiceCommand, renderUnit } from '../../src/firewall/service.js';
import { runCommand } from './run-fw.js';

const unitFile = new URL('../../systemd/knock-server.service', import.meta.url);
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function install(args: string[], systemd: boolean, calls: string[][] = []) {
  dir ??= await mkdtemp(join(tmpdir(), 'knock-unit-'));
  const out: string[] = [];
  const command = installServiceCommand({
    stdout: (t) => out.push(t),
    unitDir: dir,
    systemdRunning: async () => systemd,
    execStart: ['/usr/bin/node', '/opt/knock/server/bin/knock-server.js'],
    exec: async (file, a) => {
      calls.push([file, ...a]);
      return { code: 0, stdout: '', stderr: '' };
    },
  });
  return runCommand(command, ['install-service', ...args], out, []);
}

describe('the systemd unit', () => {
  it('restarts always, reloads with SIGHUP, keeps only CAP_NET_RAW and CAP_NET_ADMIN', async () => {
    const unit = await readFile(unitFile, 'utf8');
    const lines = unit.split('\n');
    for (const expected of [
      'Restart=always',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN',
      'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'After=network-online.target nftables.service',
    ])
      expect(lines).toContain(expected);
    expect(unit).toMatch(/^ReadWritePaths=.*-\/var\/log.*-\/run/m);
  });
});

describe('knock-server install-service', () => {
  it('writes the unit with ExecStart pointing here, and says systemd is not running instead of failing', async () => {
    const calls: string[][] = [];
    const r = await install([], false, calls);
    expect(r.code).toBe(0);
    const written = await readFile(join(dir!, 'knock-server.service'), 'utf8');
    expect(written).toContain(
      'ExecStart=/usr/bin/node /opt/knock/server/bin/knock-server.js -c /etc/knockd.conf\n',
    );
    expect(written).toContain('Restart=always');
    expect(r.stdout).toContain('systemd is not running here');
    expect(calls).toEqual([]);
  });

  it('reloads systemd when it runs, and is idempotent', async () => {
    const calls: string[][] = [];
    await install(['-c', '/etc/knockd/knockd.conf'], true, calls);
    const again = await install(['-c', '/etc/knockd/knockd.conf'], true, calls);
    expect(again.stdout).toContain('already up to date');
    expect(calls).toEqual([
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'daemon-reload'],
    ]);
  });

  it('--dry-run prints the unit and writes nothing', async () => {
    const r = await install(['--dry-run'], true);
    expect(r.stdout).toContain(`# would write ${dir}/knock-server.service`);
    expect(r.stdout).toContain('[Service]');
    await expect(readFile(join(dir!, 'knock-server.service'))).rejects.toThrow();
  });

  it('quotes paths with spaces for systemd', () => {
    expect(renderUnit('a\nExecStart=x\nb', ['/opt/my knock/bin', '-c', '/etc/k.conf'])).toBe(
      'a\nExecStart="/opt/my knock/bin" -c /etc/k.conf\nb',
    );
  });
});
