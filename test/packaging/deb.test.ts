/**
 * The server's Debian package (`npm run package:deb`, here with --no-build after the
 * build): its control data and files; lintian (output written next to the .deb, no
 * error or warning allowed); an install into a throwaway root with `dpkg --root`
 * (maintainer scripts run chrootless with DPKG_ROOT, as dpkg supports for this) where
 * `knock-server --version` and `check` run from the installed files and purge leaves
 * nothing behind; then, as root, a real `apt-get install ./….deb` on this machine
 * inside a network namespace (so the maintainer scripts' firewall work touches only
 * that namespace), `systemd-analyze verify` of the installed unit, and a purge that
 * leaves the machine as it was.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, netnsSkipReason, waitFor } from '../helpers/netns.js';
import { RunningDaemon } from '../server/daemon-helpers.js';
import { buildAll, knockBin, root, run, which } from './tools.js';

const version = (
  JSON.parse(readFileSync(join(root, 'server', 'package.json'), 'utf8')) as { version: string }
).version;
const dpkgSkip =
  process.getuid?.() !== 0
    ? 'needs root (dpkg --root, apt-get)'
    : which('dpkg-deb')
      ? undefined
      : 'needs dpkg-deb';

const work = mkdtempSync(join(tmpdir(), 'knock-deb-'));
let deb = '';
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(dpkgSkip !== undefined)(
  `knock-server .deb${dpkgSkip ? ` (skipped: ${dpkgSkip})` : ''}`,
  () => {
    beforeAll(async () => {
      await buildAll();
      const result = await run([
        'bash',
        join(root, 'scripts', 'package-deb.sh'),
        '--no-build',
        '--out',
        join(work, 'out'),
      ]);
      expect(result.stderr).toMatch(/wrote .*knock-server_.*_amd64\.deb/);
      expect(result.code).toBe(0);
      deb = result.stdout.trim();
    }, 120_000);

    const field = (name: string) =>
      execFileSync('dpkg-deb', ['-f', deb, name], { encoding: 'utf8' }).trim();
    const contents = () =>
      execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(/\s+/).slice(5).join(' ').replace(/^\./, ''));

    it(`is knock-server_${version}_amd64.deb with honest Depends`, () => {
      expect(deb).toMatch(
        new RegExp(`/knock-server_${version.replace(/\./g, '\\.')}_amd64\\.deb$`),
      );
      expect(field('Package')).toBe('knock-server');
      expect(field('Version')).toBe(version);
      expect(field('Architecture')).toBe('amd64');
      const major = process.versions.node.split('.')[0] ?? '';
      const depends = field('Depends');
      // cap.node is built for this Node's ABI: same major version, no other.
      expect(depends).toContain(`nodejs (>= ${major}~), nodejs (<< ${Number(major) + 1}~)`);
      expect(depends).toMatch(/libpcap0\.8 \(>= [\d.]+\)/);
      expect(depends).toContain('nftables | iptables');
    });

    it('ships the daemon, its production dependencies, the unit, man pages and completions; not /etc/knockd.conf', () => {
      const files = contents();
      for (const path of [
        '/usr/sbin/knock-server -> ../lib/knock-server/bin/knock-server.js',
        '/usr/lib/knock-server/dist/bin/knock-server.js',
        '/usr/lib/knock-server/contrib/knock-server-dashboard.json',
        '/usr/lib/knock-server/systemd/knock-server.service',
        '/usr/lib/knock-server/node_modules/cap/build/Release/cap.node',
        '/usr/lib/knock-server/node_modules/@knock/shared/dist/index.js',
        '/usr/lib/knock-server/node_modules/commander/package.json',
        '/lib/systemd/system/knock-server.service',
        '/usr/share/knock-server/knockd.conf',
        '/etc/default/knock-server',
        '/var/lib/knock-server/',
        '/usr/share/man/man8/knock-server.8.gz',
        '/usr/share/man/man5/knockd.conf.5.gz',
        '/usr/share/bash-completion/completions/knock-server',
        '/usr/share/zsh/vendor-completions/_knock-server',
        '/usr/share/fish/vendor_completions.d/knock-server.fish',
        '/usr/share/doc/knock-server/copyright',
      ])
        expect(files).toContain(path);
      expect(files).not.toContain('/etc/knockd.conf');
      // Nothing only a build needs: no TypeScript sources, declarations, maps, nan.
      expect(
        files.filter((f) => !f.endsWith('/') && /\.(ts|map)$|\/nan\/|\/src\//.test(f)),
      ).toEqual([]);
      const conffiles = execFileSync(
        'sh',
        ['-c', `dpkg-deb --ctrl-tarfile ${deb} | tar -xOf - ./conffiles`],
        {
          encoding: 'utf8',
        },
      );
      expect(conffiles).toBe('/etc/default/knock-server\n');
    });

    it.skipIf(!which('lintian'))(
      'lintian reports no error and no warning (output kept in build/deb/)',
      async () => {
        const result = await run(['lintian', '-I', '--pedantic', deb], { timeoutMs: 120_000 });
        const report =
          result.stdout + result.stderr.replace(/^running with root privileges.*\n/m, '');
        // Recorded where `npm run package:deb` puts its output (build/ is not committed).
        mkdirSync(join(root, 'build', 'deb'), { recursive: true });
        writeFileSync(join(root, 'build', 'deb', `${basename(deb)}.lintian.txt`), report);
        expect(report.split('\n').filter((l) => /^[EW]: /.test(l))).toEqual([]);
        expect(result.code).toBe(0);
      },
      120_000,
    );

    describe('installed with dpkg --root into a throwaway root', () => {
      const fresh = () => {
        const dir = mkdtempSync(join(work, 'root-'));
        for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates'])
          mkdirSync(join(dir, d), { recursive: true });
        writeFileSync(join(dir, 'var/lib/dpkg/status'), '');
        return dir;
      };
      // The throwaway root has no packages at all, so its dependencies cannot be met there
      // (--force-depends); the real install below checks them against this machine's.
      const dpkg = (dir: string, ...args: string[]) =>
        run(['dpkg', `--root=${dir}`, '--force-script-chrootless', '--force-depends', ...args]);

      it('writes a default /etc/knockd.conf when there is none; knock-server --version and check run; purge leaves nothing', async () => {
        const dir = fresh();
        const install = await dpkg(dir, '-i', deb);
        expect(install.code).toBe(0);
        expect(install.stdout).toContain('wrote a default /etc/knockd.conf');
        const conf = join(dir, 'etc', 'knockd.conf');
        expect(readFileSync(conf, 'utf8')).toBe(
          readFileSync(join(root, 'packaging', 'deb', 'knockd.conf'), 'utf8'),
        );
        expect(statSync(conf).mode & 0o777).toBe(0o600);
        const bin = join(dir, 'usr', 'sbin', 'knock-server');
        const versionOut = await run([bin, '--version']);
        expect(versionOut.stdout).toBe(`knock-server ${version} (knockd 0.8 compatible)\n`);
        const check = await run([bin, 'check', '-c', conf]);
        expect(check.stderr).toBe('');
        expect(check.stdout).toMatch(/OK/);
        expect(check.code).toBe(0);
        // The unit runs the installed binary on the default config and names the man pages.
        const unit = readFileSync(join(dir, 'lib/systemd/system/knock-server.service'), 'utf8');
        expect(unit).toMatch(/^ExecStart=\/usr\/sbin\/knock-server -c \/etc\/knockd\.conf$/m);
        expect(unit).toMatch(/^Documentation=man:knock-server\(8\) man:knockd\.conf\(5\)$/m);
        // Nothing enabled: no wants link anywhere in the root.
        expect(execFileSync('find', [dir, '-name', '*.wants'], { encoding: 'utf8' })).toBe('');

        const purge = await dpkg(dir, '--purge', 'knock-server');
        expect(purge.code).toBe(0);
        const left = execFileSync(
          'find',
          [dir, '-path', join(dir, 'var/lib/dpkg'), '-prune', '-o', '-type', 'f', '-print'],
          {
            encoding: 'utf8',
          },
        );
        expect(left).toBe('');
      });

      it.skipIf(netnsSkipReason !== undefined)(
        "the installed daemon captures a knock and runs the door's command (the packaged cap.node and runner)",
        async () => {
          const dir = fresh();
          expect((await dpkg(dir, '-i', deb)).code).toBe(0);
          const conf = join(dir, 'door.conf');
          const opened = join(dir, 'opened');
          writeFileSync(
            conf,
            `[door]\n  Sequence = 1228,1227:udp\n  Seq_Timeout = 5\n  Start_Command = /usr/bin/touch ${opened}-%IP%\n`,
          );
          const ns = new Netns(`kndeb${process.pid.toString(36)}`);
          execFileSync('ip', ['netns', 'add', ns.name]);
          try {
            await ns.sh('ip link set lo up');
            const daemon = new RunningDaemon(
              ns.spawn([join(dir, 'usr', 'sbin', 'knock-server'), '-i', 'lo', '-c', conf, '-v']),
            );
            try {
              await daemon.line('starting up, listening on lo', 20_000);
              const sent = await ns.exec([
                process.execPath,
                knockBin,
                '127.0.0.1',
                '1228',
                '1227:udp',
              ]);
              expect(sent.code).toBe(0);
              await daemon.line(/^door: running command: \/usr\/bin\/touch /, 10_000);
              expect(await waitFor(() => existsSync(`${opened}-127.0.0.1`), 5000)).toBe(true);
            } finally {
              await daemon.stop();
            }
          } finally {
            execFileSync('ip', ['netns', 'del', ns.name]);
          }
        },
        60_000,
      );

      it('leaves an existing /etc/knockd.conf alone, also on purge', async () => {
        const dir = fresh();
        mkdirSync(join(dir, 'etc'));
        const mine = '[mine]\n  Sequence = 1,2,3\n  Command = /bin/true\n';
        writeFileSync(join(dir, 'etc', 'knockd.conf'), mine);
        expect((await dpkg(dir, '-i', deb)).code).toBe(0);
        expect(readFileSync(join(dir, 'etc', 'knockd.conf'), 'utf8')).toBe(mine);
        expect((await dpkg(dir, '--purge', 'knock-server')).code).toBe(0);
        expect(readFileSync(join(dir, 'etc', 'knockd.conf'), 'utf8')).toBe(mine);
      });

      it('purge keeps an edited default config as /etc/knockd.conf.dpkg-bak', async () => {
        const dir = fresh();
        expect((await dpkg(dir, '-i', deb)).code).toBe(0);
        writeFileSync(join(dir, 'etc', 'knockd.conf'), '# edited\n', { flag: 'a' });
        const purge = await dpkg(dir, '--purge', 'knock-server');
        expect(purge.stdout).toContain('kept as /etc/knockd.conf.dpkg-bak');
        expect(existsSync(join(dir, 'etc', 'knockd.conf'))).toBe(false);
        expect(readFileSync(join(dir, 'etc', 'knockd.conf.dpkg-bak'), 'utf8')).toMatch(
          /# edited\n$/,
        );
      });
    });
  },
);

/** nodejs as a Debian package that satisfies Depends (bookworm's own nodejs is 18). */
function nodejsPackageOk(): boolean {
  try {
    const installed = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'nodejs'], {
      encoding: 'utf8',
    });
    const major = process.versions.node.split('.')[0] ?? '';
    return (
      execFileSync('dpkg', ['--compare-versions', installed, 'ge', `${major}~`]).length === 0 &&
      installed.startsWith(`${major}.`)
    );
  } catch {
    return false;
  }
}

function alreadyInstalled(): boolean {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Status}', 'knock-server'], {
      encoding: 'utf8',
    }).includes('installed');
  } catch {
    return false;
  }
}

const realSkip =
  dpkgSkip ??
  netnsSkipReason ??
  (!which('apt-get')
    ? 'needs apt-get'
    : alreadyInstalled()
      ? 'knock-server is installed on this machine already: not touching it'
      : !nodejsPackageOk()
        ? "this machine's nodejs package does not satisfy nodejs (>= 20~) (bookworm's is 18: NodeSource's or trixie's is needed)"
        : undefined);

describe.skipIf(realSkip !== undefined)(
  `a real apt-get install on this machine, then purge${realSkip ? ` (skipped: ${realSkip})` : ''}`,
  () => {
    const ns = new Netns(`knpkg${process.pid.toString(36)}`);
    const apt = (...args: string[]) =>
      ns.exec(
        [
          'env',
          'DEBIAN_FRONTEND=noninteractive',
          'apt-get',
          '-y',
          '-q',
          '-o',
          'DPkg::Lock::Timeout=300',
          ...args,
        ],
        {
          timeoutMs: 330_000,
        },
      );
    const paths = [
      '/usr/sbin/knock-server',
      '/usr/lib/knock-server',
      '/lib/systemd/system/knock-server.service',
      '/etc/default/knock-server',
      '/var/lib/knock-server',
      '/usr/share/man/man8/knock-server.8.gz',
      '/usr/share/bash-completion/completions/knock-server',
      '/etc/systemd/system/multi-user.target.wants/knock-server.service',
    ];
    const snapshot = () => ({
      knockdConf: existsSync('/etc/knockd.conf')
        ? readFileSync('/etc/knockd.conf', 'utf8')
        : undefined,
      present: paths.filter((p) => existsSync(p)),
    });
    let before: ReturnType<typeof snapshot>;

    beforeAll(async () => {
      if (!deb) throw new Error('the .deb was not built');
      before = snapshot();
      execFileSync('ip', ['netns', 'add', ns.name]);
    });
    afterAll(async () => {
      // Whatever happened above, the machine is left without the package.
      if (alreadyInstalled()) await apt('purge', 'knock-server');
      execFileSync('ip', ['netns', 'del', ns.name]);
    }, 330_000);

    it('installs (dependencies met), runs, the unit passes systemd-analyze verify; remove takes the firewall away; purge leaves the machine as it was', async () => {
      expect(before.present).toEqual([]);
      const install = await apt('install', deb);
      expect(install.stderr.split('\n').filter((l) => /^E: |error/i.test(l))).toEqual([]);
      expect(install.code).toBe(0);

      expect((await run(['/usr/sbin/knock-server', '--version'])).stdout).toBe(
        `knock-server ${version} (knockd 0.8 compatible)\n`,
      );
      // An existing /etc/knockd.conf (Debian knockd's here) is left as it was.
      expect(snapshot().knockdConf).toBe(before.knockdConf);
      // systemd (scripts/setup.sh installs it) parses the unit as installed.
      expect(which('systemd-analyze')).toBeDefined();
      const verify = await run([
        'systemd-analyze',
        'verify',
        '/lib/systemd/system/knock-server.service',
      ]);
      expect(verify.stderr).toBe('');
      expect(verify.code).toBe(0);
      const man = await run(['man', '--warnings', '-l', '/usr/share/man/man8/knock-server.8.gz'], {
        env: { ...process.env, MANWIDTH: '80' },
      });
      expect(man.stderr).toBe('');
      expect(man.stdout).toMatch(/knock-server/);
      const completion = await run([
        'bash',
        '-c',
        'source /usr/share/bash-completion/completions/knock-server && complete -p knock-server',
      ]);
      expect(completion.stdout).toMatch(/complete -F \w+ knock-server/);
      // Nothing was enabled or started.
      expect(existsSync('/etc/systemd/system/multi-user.target.wants/knock-server.service')).toBe(
        false,
      );

      // knock-server's firewall, in the namespace: `apt-get remove` takes it away.
      const conf = join(work, 'fw.conf');
      writeFileSync(
        conf,
        '[options]\n  Firewall = nftables\n[ssh]\n  Sequence = 1228,1227\n  Open_Ports = 22/tcp\n',
      );
      expect((await ns.exec(['/usr/sbin/knock-server', 'fw', 'setup', '-c', conf])).code).toBe(0);
      expect(await ns.sh('nft list tables')).toContain('table inet knock');
      const remove = await apt('remove', 'knock-server');
      expect(remove.code).toBe(0);
      expect(await ns.sh('nft list tables')).not.toContain('table inet knock');
      expect(existsSync('/etc/default/knock-server')).toBe(true);

      const purge = await apt('purge', 'knock-server');
      expect(purge.code).toBe(0);
      expect(snapshot()).toEqual(before);
      expect(alreadyInstalled()).toBe(false);
    }, 330_000);
  },
);
