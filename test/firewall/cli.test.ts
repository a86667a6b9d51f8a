// `knock-server fw …` against real nftables (and iptables) in a namespace.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '@knock/shared';
import { canUseNetns, netnsSkipReason } from '../helpers/netns.js';
import { createFwLab, runFwCli, withoutExpiry, type FwLab } from './fw-lab.js';

describe.skipIf(!canUseNetns)(
  `knock-server fw in a namespace${netnsSkipReason ? ` (skipped: ${netnsSkipReason})` : ''}`,
  () => {
    let fw: FwLab;
    let dir: string;
    let conf: string;
    const table = async () => (await fw.exec('nft', ['list', 'table', 'inet', 'knock'])).stdout;
    const run = (...args: string[]) => runFwCli(fw, [...args, '-c', conf]);

    beforeAll(async () => {
      fw = await createFwLab();
      dir = await mkdtemp(join(tmpdir(), 'knock-fw-'));
      conf = join(dir, 'knockd.conf');
      // The seed's config, with the built-in grant and ban instead of the init script.
      await writeFile(
        conf,
        `[options]
  UseSyslog
  Firewall = nftables
  Trusted_File = ${dir}/knockd.trusted

[opencloseSSH]
  Sequence    = 1228,1227
  Seq_Timeout = 15
  TCPFlags    = syn
  Open_Ports  = 22/tcp
  Open_Timeout = 300

[banned1]
  Sequence = 1220,1221
  Ban = 0
`,
      );
      await writeFile(
        join(dir, 'knockd.trusted'),
        '# always let in\nlocalhost # a name\n192.0.2.8/30 #\n2001:db8::a0/124\n',
      );
    });
    afterAll(async () => {
      await fw?.destroy();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("setup protects the doors' ports and loads the trusted file; twice changes nothing", async () => {
      const first = await run('setup');
      expect(first).toMatchObject({ code: 0, stderr: '' });
      expect(first.stdout).toContain('nftables: protecting 22/tcp');
      const once = await table();
      expect(once).toContain('192.0.2.8/30');
      expect(once).toContain('127.0.0.1');
      expect((await run('setup')).code).toBe(0);
      expect(withoutExpiry(await table())).toBe(withoutExpiry(once));
      expect(await fw.connects('192.0.2.10')).toBe(true);
      expect(await fw.connects('192.0.2.1')).toBe(false);
    });

    it('accept opens for that address; list shows it with its remaining time', async () => {
      const r = await run('accept', '192.0.2.1', '--for', '120');
      expect(r).toMatchObject({ code: 0, stdout: '192.0.2.1 may connect to 22/tcp for 120 s\n' });
      expect(await fw.connects('192.0.2.1')).toBe(true);
      expect(await fw.connects('192.0.2.12')).toBe(false);
      const list = await run('list');
      expect(list.stdout).toMatch(/^grant {2}192\.0\.2\.1 {2}22\/tcp {2}1m5[0-9]s left$/m);
    });

    it('drop bans, even a granted address; flush banned lifts it; flush addr and flush filter revoke', async () => {
      expect((await run('drop', '192.0.2.1')).stdout).toBe('192.0.2.1 is banned until flushed\n');
      expect(await fw.connects('192.0.2.1')).toBe(false);
      expect((await run('list')).stdout).toMatch(/^ban +192\.0\.2\.1 +- +forever$/m);
      expect((await run('flush', 'banned')).code).toBe(0);
      expect(await fw.connects('192.0.2.1')).toBe(true);
      await run('accept', '2001:db8::1');
      expect((await run('flush', 'addr', '192.0.2.1')).code).toBe(0);
      expect(await fw.connects('192.0.2.1')).toBe(false);
      expect(await fw.connects('2001:db8::1')).toBe(true);
      expect((await run('flush', 'filter')).code).toBe(0);
      expect(await fw.connects('2001:db8::1')).toBe(false);
      expect((await run('list')).stdout).toBe('no grants or bans\n');
    });

    it('--dry-run prints the changes and changes nothing', async () => {
      await run('accept', '192.0.2.12');
      const before = withoutExpiry(await table());
      const r = await run('setup', '--port', '443/tcp', '--dry-run');
      expect(r.stdout).toContain('add element inet knock protected { tcp . 443 }');
      const accept = await run('accept', '192.0.2.13', '--dry-run');
      expect(accept.stdout).toContain('granted4 { 192.0.2.13 . tcp . 22 timeout 300s }');
      await run('flush', 'filter', '--dry-run');
      await run('teardown', '--dry-run');
      expect(withoutExpiry(await table())).toBe(before);
    });

    it('-c FILE is read wherever it is written, also without --dry-run (issue 9 item 2)', async () => {
      const other = join(dir, 'other.conf');
      await writeFile(
        other,
        '[options]\n  Firewall = nftables\n[web]\n  Sequence = 7000\n  Open_Ports = 443/tcp\n',
      );
      for (const args of [
        ['--dry-run', 'setup', '-c', other],
        ['-c', other, '--dry-run', 'setup'],
        [`--config=${other}`, 'setup', '--dry-run'],
      ]) {
        const r = await runFwCli(fw, args);
        expect(r.stdout, args.join(' ')).toContain(
          'add element inet knock protected { tcp . 443 }',
        );
      }
      expect((await runFwCli(fw, [`--config=${other}`, 'setup'])).stdout).toContain(
        'nftables: protecting 443/tcp',
      );
      expect(await table()).toMatch(/elements = \{ tcp \. 443 \}/);
      expect((await run('setup')).code).toBe(0);
      expect(await table()).toMatch(/elements = \{ tcp \. 22 \}/);
    });

    it('bad addresses are refused by name and change nothing', async () => {
      const before = withoutExpiry(await table());
      const r = await run('accept', '192.0.2.999');
      expect(r.code).toBe(ExitCode.usage);
      expect(r.stderr).toContain("invalid address '192.0.2.999'");
      expect((await run('trust', '2001:db8::/129')).stderr).toContain(
        "invalid address or CIDR '2001:db8::/129'",
      );
      expect(withoutExpiry(await table())).toBe(before);
    });

    it('status, then teardown leaves no table', async () => {
      const status = await run('status');
      expect(status.stdout).toMatch(/^active: +yes$/m);
      expect(status.stdout).toMatch(/^protected: 22\/tcp$/m);
      expect((await run('teardown')).code).toBe(0);
      expect((await fw.exec('nft', ['list', 'tables'])).stdout).not.toContain('knock');
      expect((await run('status')).stdout).toMatch(/^active: +no/m);
    });

    it("the iptables backend with the seed's chain names does the same core job", async () => {
      const ipt = (...args: string[]) =>
        run(...args, '--backend', 'iptables', '--chain-prefix', 'ssh');
      expect((await ipt('setup')).code).toBe(0);
      expect((await ipt('setup')).code).toBe(0);
      expect(await fw.connects('192.0.2.1')).toBe(false);
      expect(await fw.connects('192.0.2.10')).toBe(true);
      expect((await ipt('accept', '192.0.2.1', '--for', '60')).code).toBe(0);
      expect(await fw.connects('192.0.2.1')).toBe(true);
      expect((await ipt('list')).stdout).toMatch(
        /^grant {2}192\.0\.2\.1 {2}22\/tcp {2}(59s|1m0s) left$/m,
      );
      expect((await ipt('drop', '192.0.2.1')).code).toBe(0);
      expect(await fw.connects('192.0.2.1')).toBe(false);
      expect((await ipt('teardown')).code).toBe(0);
      expect((await fw.exec('iptables', ['-S'])).stdout).not.toContain('ssh_');
    });
  },
);
