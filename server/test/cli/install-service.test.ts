import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { installServiceCommand, renderUnit } from '../../src/cli/install-service.js';
import { runCommand } from './run-fw.js';

const unitFile = new URL('../../systemd/knock-server.service', import.meta.url);
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const DOOR = '[ssh]\n  Sequence = 1228,1227\n  Command = true\n';
const CONFIGS: Record<string, string> = {
  '/etc/knockd.conf': DOOR,
  '/etc/knockd/knockd.conf': DOOR,
};

async function install(
  args: string[],
  systemd: boolean,
  calls: string[][] = [],
  configs: Record<string, string> = CONFIGS,
) {
  dir ??= await mkdtemp(join(tmpdir(), 'knock-unit-'));
  const out: string[] = [];
  const err: string[] = [];
  const command = installServiceCommand({
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readConfig: async (path) => {
      const text = configs[path];
      if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return text;
    },
    unitDir: dir,
    systemdRunning: async () => systemd,
    execStart: ['/usr/bin/node', '/opt/knock/server/bin/knock-server.js'],
    exec: async (file, a) => {
      calls.push([file, ...a]);
      return { code: 0, stdout: '', stderr: '' };
    },
  });
  return runCommand(command, ['install-service', ...args], out, err);
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

describe('install-service and the config it runs (issue 9 item 6)', () => {
  it('writes an absolute config path into ExecStart (systemd starts in /)', async () => {
    const cwd = process.cwd();
    const r = await install(['-c', 'seed.conf', '--dry-run'], false, [], {
      [join(cwd, 'seed.conf')]: DOOR,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`-c ${join(cwd, 'seed.conf')}\n`);
    expect(r.stdout).not.toMatch(/-c seed\.conf/);
  });

  it('refuses a config that does not exist, or has errors: clear error, exit 3, nothing written', async () => {
    const missing = await install(['-c', '/etc/nope.conf'], false);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('cannot read the config /etc/nope.conf (no such file)');
    await expect(readFile(join(dir!, 'knock-server.service'))).rejects.toThrow();
    const broken = await install(['-c', '/etc/bad.conf'], false, [], {
      '/etc/bad.conf': '[ssh]\n  Sequence = ssh\n',
    });
    expect(broken.code).toBe(3);
    expect(broken.stderr).toContain('/etc/bad.conf has errors');
  });

  it('warns about files the sandbox hides (PrivateTmp, ProtectHome) or keeps read-only', async () => {
    const conf =
      '[options]\n  LogFile = /opt/knock/k.log\n  Trusted_File = /root/k.trusted\n' +
      '[ssh]\n  One_Time_Sequences = /var/lib/knock-server/ssh.ots\n  Command = true\n';
    const r = await install(['-c', '/tmp/seed.conf', '--dry-run'], false, [], {
      '/tmp/seed.conf': conf,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'the config /tmp/seed.conf is under /tmp, which the service cannot see (PrivateTmp=yes)',
    );
    expect(r.stderr).toContain('Trusted_File /root/k.trusted is under /root');
    expect(r.stderr).toContain('LogFile /opt/knock/k.log is read-only for the service');
    expect(r.stderr).not.toContain('One_Time_Sequences');
    const clean = await install(['--dry-run'], false);
    expect(clean.stderr).toBe('');
  });

  it('warns about relative paths in the config: the service runs in /', async () => {
    const r = await install(['--dry-run'], false, [], {
      '/etc/knockd.conf':
        '[options]\n  LogFile = knock.log\n[ssh]\n  One_Time_Sequences = ./ssh.ots\n  Command = true\n',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'LogFile knock.log is a relative path: the service runs in /, where it is /knock.log',
    );
    expect(r.stderr).toContain(
      'One_Time_Sequences of [ssh] (marked as used) ./ssh.ots is a relative path',
    );
  });

  it("names knock-server's own documentation, not knockd's", async () => {
    const r = await install(['--dry-run'], false);
    expect(r.stdout).not.toContain('man:knockd');
    expect(r.stdout).toMatch(/^Documentation=man:knock-server\(8\)/m);
    expect(r.stdout).toMatch(/^Documentation=.*file:\/\/\/.*README\.md$/m);
  });
});
