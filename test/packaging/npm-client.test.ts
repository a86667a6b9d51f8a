/**
 * The client as its users install it: the tarball of `npm run package:client`, installed
 * with `npm install -g --prefix EMPTY` by an unprivileged user (nobody) whose PATH holds
 * only a folder with node and npm, and the prefix (dependencies come from the npm
 * registry as configured on this machine). Then, still as nobody: --version, --help,
 * `knock list` with a profile file, a knock that opens knock-server's door in a network
 * namespace, ssh through `ProxyCommand knock proxy %h %p` behind knock-server's
 * firewall, and a plain knock with ink and react deleted from the install (no cap, no
 * libpcap, no native code at all in it).
 */
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeUnless } from '../helpers/describe.js';
import { createLab, netnsSkipReason, type Lab, type Netns } from '../helpers/netns.js';
import { hostsEntry } from '../helpers/lab-tools.js';
import { serverLinkReady, startKnockServer, type RunningDaemon } from '../helpers/daemon.js';
import { SSHD, SSH_LOGIN_TIMEOUT_S, startSshd } from '../helpers/lab-services.js';
import { buildAll, root, run, which } from './tools.js';

const NOBODY = 65534;
const version = (
  JSON.parse(readFileSync(join(root, 'client-cli', 'package.json'), 'utf8')) as { version: string }
).version;
const skip =
  netnsSkipReason ??
  (!existsSync(SSHD)
    ? 'needs openssh-server (scripts/setup.sh)'
    : !which('setpriv')
      ? 'needs setpriv (util-linux)'
      : undefined);
const SEQUENCE = '1228,1227:udp,1226';

describeUnless(skip, `npm install -g of the client tarball, used as nobody`, () => {
  const work = mkdtempSync(join(tmpdir(), 'knock-npm-'));
  const prefix = join(work, 'prefix');
  const home = join(work, 'home');
  const nodeBin = join(work, 'node-bin');
  const installed = join(prefix, 'lib', 'node_modules', '@knock', 'client-cli');
  let tarball = '';
  let installMs = 0;
  let lab: Lab;
  let daemon: RunningDaemon | undefined;
  let removeHosts: (() => void) | undefined;
  let host = '';

  /** argv as nobody, with only node's folder and the prefix in PATH (and `env` extra). */
  const asNobody = (argv: string[], env: Record<string, string> = {}) => [
    'setpriv',
    `--reuid=${NOBODY}`,
    `--regid=${NOBODY}`,
    '--clear-groups',
    '--',
    '/usr/bin/env',
    '-i',
    `PATH=${join(prefix, 'bin')}:${nodeBin}`,
    `HOME=${home}`,
    'LANG=C.UTF-8',
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ...argv,
  ];
  const knock = (args: string[], env: Record<string, string> = {}) =>
    run(asNobody(['knock', ...args], env));
  const knockIn = (ns: Netns, args: string[], env: Record<string, string> = {}) =>
    ns.exec(asNobody(['knock', ...args], env), { timeoutMs: 30_000 });

  beforeAll(async () => {
    await buildAll();
    const pack = await run([
      process.execPath,
      join(root, 'scripts', 'package-client.mjs'),
      '--no-build',
      '--out',
      join(work, 'out'),
    ]);
    expect(pack.code).toBe(0);
    tarball = pack.stdout.trim();
    chmodSync(work, 0o755);
    chmodSync(dirname(tarball), 0o755);
    chmodSync(tarball, 0o644);
    // A folder with only node and npm: the "machine that has only Node 20".
    mkdirSync(nodeBin);
    symlinkSync(process.execPath, join(nodeBin, 'node'));
    symlinkSync(join(dirname(process.execPath), 'npm'), join(nodeBin, 'npm'));
    for (const dir of [prefix, home, join(work, 'npm-cache')]) {
      mkdirSync(dir);
      chownSync(dir, NOBODY, NOBODY);
    }
    // The registry as this machine reaches it (its CA file, proxies), nothing else of root's.
    const passThrough: Record<string, string> = {
      npm_config_cache: join(work, 'npm-cache'),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    };
    const cafile = execFileSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).trim();
    if (cafile && cafile !== 'null' && cafile !== 'undefined')
      passThrough.npm_config_cafile = cafile;
    for (const key of [
      'NODE_EXTRA_CA_CERTS',
      'HTTPS_PROXY',
      'https_proxy',
      'HTTP_PROXY',
      'http_proxy',
      'NO_PROXY',
      'no_proxy',
    ])
      if (process.env[key]) passThrough[key] = process.env[key] ?? '';
    const started = Date.now();
    const install = await run(
      asNobody(
        ['npm', 'install', '-g', '--prefix', prefix, '--loglevel=error', tarball],
        passThrough,
      ),
      {
        timeoutMs: 240_000,
      },
    );
    installMs = Date.now() - started;
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);

    lab = await createLab();
    await serverLinkReady(lab);
    host = `npm-client-${lab.id}.test`;
    removeHosts = hostsEntry(lab.client, host, [lab.server6, lab.server4]);
  }, 300_000);

  afterAll(async () => {
    await daemon?.stop();
    removeHosts?.();
    await lab?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it('installs as nobody into the empty prefix: bin/knock and man/man1/knock.1, no native code, no cap', () => {
    expect(existsSync(join(prefix, 'bin', 'knock'))).toBe(true);
    expect(existsSync(join(prefix, 'share', 'man', 'man1', 'knock.1'))).toBe(true);
    const native = execFileSync(
      'find',
      [
        prefix,
        '(',
        '-name',
        '*.node',
        '-o',
        '-name',
        'cap',
        '-o',
        '-name',
        'binding.gyp',
        ')',
        '-print',
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(native).toBe('');
    // @knock/shared came inside the tarball, not from the registry.
    expect(
      JSON.parse(
        readFileSync(join(installed, 'node_modules', '@knock', 'shared', 'package.json'), 'utf8'),
      ),
    ).toMatchObject({
      name: '@knock/shared',
      version,
    });
    expect(installMs).toBeLessThan(240_000);
  });

  it('knock --version and knock --help', async () => {
    const v = await knock(['--version']);
    expect(v).toEqual({ code: 0, stdout: `knock ${version}\n`, stderr: '' });
    const help = await knock(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: knock \[options\] HOST/);
    expect(help.stdout).toContain('proxy');
  });

  it('knock completion bash from the install loads in bash; its man page renders', async () => {
    const script = await knock(['completion', 'bash']);
    expect(script.code).toBe(0);
    const file = join(home, 'knock.bash');
    writeFileSync(file, script.stdout);
    const loaded = await run(['bash', '-c', `source ${file} && complete -p knock`]);
    expect(loaded.stdout).toMatch(/^complete -F \w+ knock\n$/);
    const man = await run(
      ['man', '--warnings', '-l', join(prefix, 'share', 'man', 'man1', 'knock.1')],
      {
        env: { ...process.env, MANWIDTH: '80' },
      },
    );
    expect(man.stderr).toBe('');
    expect(man.stdout).toMatch(/knock proxy/);
  });

  it('knock list reads $KNOCK_CONFIG, and ~/.config/knock/config.toml by default', async () => {
    const profile = `[hosts."${host}"]\nsequence = "${SEQUENCE}"\nport = 22\n`;
    const file = join(home, 'profiles.toml');
    writeFileSync(file, profile);
    const listed = await knock(['list'], { KNOCK_CONFIG: file });
    expect(listed.stderr).toBe('');
    expect(listed.stdout).toContain(`profiles in ${file}:`);
    expect(listed.stdout).toContain(host);
    const defaultFile = join(home, '.config', 'knock', 'config.toml');
    mkdirSync(dirname(defaultFile), { recursive: true });
    writeFileSync(defaultFile, profile);
    const byDefault = await knock(['list']);
    expect(byDefault.stdout).toContain(`profiles in ${defaultFile}:`);
    expect(byDefault.code).toBe(0);
  });

  describe('against knock-server in a network namespace', () => {
    let sshDir = '';
    beforeAll(async () => {
      sshDir = mkdtempSync(join(tmpdir(), 'knock-npm-ssh-'));
      const sshd = await startSshd(lab, sshDir);
      // The client's key and ssh config, nobody's own.
      copyFileSync(join(sshDir, 'id_ed25519'), join(home, 'id_ed25519'));
      writeFileSync(
        join(home, 'ssh_config'),
        [
          'Host *',
          '  User root',
          `  IdentityFile ${join(home, 'id_ed25519')}`,
          '  IdentitiesOnly yes',
          `  UserKnownHostsFile ${join(home, 'known_hosts')}`,
          '  GlobalKnownHostsFile /dev/null',
          '  StrictHostKeyChecking no',
          '  BatchMode yes',
          `  ConnectTimeout ${SSH_LOGIN_TIMEOUT_S}`,
          '  LogLevel ERROR',
          '  ProxyCommand knock proxy %h %p',
          '',
        ].join('\n'),
      );
      execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, home]);
      chmodSync(join(home, 'id_ed25519'), 0o600);
      writeFileSync(
        join(sshDir, 'knockd.conf'),
        `[options]\n  Firewall = nftables\n\n[openSSH]\n  Sequence     = ${SEQUENCE}\n  Seq_Timeout  = 10\n  Open_Ports   = 22/tcp\n  Open_Timeout = 30\n`,
      );
      daemon = startKnockServer(lab, ['-i', lab.serverIf, '-c', join(sshDir, 'knockd.conf'), '-v']);
      await daemon.line(`starting up, listening on ${lab.serverIf}`, 20_000);
      await daemon.line(/^firewall \(nftables\) set up/, 10_000);
      expect(sshd.child.exitCode).toBe(null);
    }, 60_000);
    afterAll(() => rmSync(sshDir, { recursive: true, force: true }));

    const flushGrants = () =>
      lab.server.sh('nft flush set inet knock granted4; nft flush set inet knock granted6');

    it('a plain knock (ports on the command line) opens the door', async () => {
      await flushGrants();
      const from = daemon?.lines.length ?? 0;
      const result = await knockIn(lab.client, ['-4', lab.server4, ...SEQUENCE.split(',')]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      await daemon?.line(`${lab.client4}: openSSH: OPEN SESAME`, 10_000, from);
    });

    it("ssh -o ProxyCommand='knock proxy %h %p' logs in through knock-server's firewall", async () => {
      await flushGrants();
      const ssh = await lab.client.exec(
        asNobody(['/usr/bin/ssh', '-F', join(home, 'ssh_config'), host, 'echo', 'via-npm-knock'], {
          KNOCK_CONFIG: join(home, 'profiles.toml'),
        }),
        { timeoutMs: 30_000 },
      );
      expect(ssh.stdout).toBe('via-npm-knock\n');
      expect(ssh.code).toBe(0);
    });

    it('without ink and react in the install, a plain knock still works; knock ui says what is missing', async () => {
      for (const name of ['ink', 'react', 'react-reconciler', 'yoga-layout'])
        rmSync(join(installed, 'node_modules', name), { recursive: true, force: true });
      await flushGrants();
      const from = daemon?.lines.length ?? 0;
      const result = await knockIn(lab.client, ['-4', lab.server4, ...SEQUENCE.split(',')]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      await daemon?.line(`${lab.client4}: openSSH: OPEN SESAME`, 10_000, from);
      const profile = await knockIn(lab.client, ['--verify', host], {
        KNOCK_CONFIG: join(home, 'profiles.toml'),
      });
      expect(profile.code).toBe(0);
      const ui = await knock(['ui'], { KNOCK_CONFIG: join(home, 'profiles.toml') });
      expect(ui.code).not.toBe(0);
      expect(ui.stderr).toMatch(/^knock: /);
      expect(ui.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
