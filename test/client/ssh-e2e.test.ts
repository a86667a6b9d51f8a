/**
 * End to end: a real sshd in the server namespace, behind an nftables rule that only
 * a knock opens (Debian's knockd adds the knocker's address to an nft set). Plain ssh
 * fails; `knock HOST && ssh HOST`, `knock ssh HOST` and ssh with `ProxyCommand knock
 * proxy %h %p` log in and run a command; a wrong sequence leaves ssh closed and
 * --verify says so.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeUnless } from '../helpers/describe.js';
import { createLab, netnsSkipReason, waitFor, type Lab } from '../helpers/netns.js';
import { SSH_REFUSED_OPTS, sshConnectTimedOut, startSshd } from '../helpers/lab-services.js';
import { ensureBuilt, hostsEntry, knockBin } from '../helpers/lab-tools.js';

const SSHD = '/usr/sbin/sshd';
const KNOCKD = '/usr/sbin/knockd';
const skip =
  netnsSkipReason ??
  (existsSync(SSHD) && existsSync(KNOCKD)
    ? undefined
    : 'needs openssh-server and knockd (scripts/setup.sh)');

describeUnless(skip, `ssh through a knock`, () => {
  let lab: Lab;
  let dir: string;
  let host: string;
  let env: NodeJS.ProcessEnv;
  let removeHosts: (() => void) | undefined;
  const daemons: ChildProcess[] = [];
  const knock = `${process.execPath} ${knockBin}`;
  const ssh = () => `ssh -F ${join(dir, 'ssh_config')}`;
  const inClient = (command: string, timeoutMs = 30_000) =>
    lab.client.exec(['sh', '-c', command], { env, timeoutMs });
  const allowed = async () =>
    (await lab.server.sh('nft list set inet gate allowed4; nft list set inet gate allowed6')).match(
      /elements = \{[^}]*\}/g,
    ) ?? [];

  beforeAll(async () => {
    await ensureBuilt();
    lab = await createLab();
    host = `knock-lab-${lab.id}.test`;
    dir = mkdtempSync(join(tmpdir(), 'knock-ssh-'));
    chmodSync(dir, 0o755);
    removeHosts = hostsEntry(lab.client, host, [lab.server6, lab.server4]);
    writeFileSync(
      join(dir, 'config.toml'),
      [
        `[hosts."${host}"]`,
        'sequence = "1228,1227:udp,1226"',
        'port = 22',
        'family = "any"',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'gate.nft'),
      [
        'table inet gate {',
        '  set allowed4 { type ipv4_addr; }',
        '  set allowed6 { type ipv6_addr; }',
        '  chain input {',
        '    type filter hook input priority 0; policy accept;',
        '    ct state established,related accept',
        '    tcp dport 22 ip saddr @allowed4 accept',
        '    tcp dport 22 ip6 saddr @allowed6 accept',
        '    tcp dport 22 drop',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'knockd.conf'),
      [
        '[openSSH]',
        '  sequence = 1228,1227:udp,1226',
        '  seq_timeout = 10',
        '  command = nft add element inet gate allowed4 { %IP% }',
        '  command_6 = nft add element inet gate allowed6 { %IP% }',
        '',
      ].join('\n'),
    );
    await lab.server.sh(`nft -f ${join(dir, 'gate.nft')}`);
    const start = async (argv: string[], ready: string) => {
      const child = lab.server.spawn(argv);
      daemons.push(child);
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      if (!(await waitFor(() => out.includes(ready), 10_000)))
        throw new Error(`${argv[0]} did not start: ${out}`);
    };
    daemons.push((await startSshd(lab, dir)).child);
    await start([KNOCKD, '-v', '-i', lab.serverIf, '-c', join(dir, 'knockd.conf')], 'listening on');
    env = { ...process.env, KNOCK_CONFIG: join(dir, 'config.toml'), HOME: dir };
  });

  beforeEach(async () => {
    if (!lab) return;
    await lab.server.sh('nft flush set inet gate allowed4; nft flush set inet gate allowed6');
    expect(await allowed()).toEqual([]);
  });

  afterAll(async () => {
    for (const d of daemons) d.kill();
    removeHosts?.();
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('plain ssh fails: port 22 is closed', async () => {
    const result = await inClient(`${ssh()} ${SSH_REFUSED_OPTS} ${host} echo should-not-run`);
    expect(result.code).toBe(255);
    expect(result.stdout).toBe('');
    // Dropped by the firewall: the connect timed out (not a slow handshake on an open port).
    expect(sshConnectTimedOut(result.stderr), result.stderr).toBe(true);
  });

  it('knock HOST && ssh HOST', async () => {
    const result = await inClient(`${knock} ${host} && ${ssh()} ${host} echo logged-in-$((6*7))`);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('logged-in-42\n');
    expect(result.code).toBe(0);
    // family any: both addresses were knocked, both opened.
    expect((await allowed()).join(' ')).toMatch(
      /192\.0\.2\.1.*2001:db8::1|2001:db8::1.*192\.0\.2\.1/s,
    );
  });

  it('knock ssh HOST: knocks, waits, runs ssh on the address that opened, exits with its status', async () => {
    const result = await inClient(
      `${knock} ssh -F ${join(dir, 'ssh_config')} ${host} echo via-knock-ssh`,
    );
    expect(result.stdout).toBe('via-knock-ssh\n');
    expect(result.code).toBe(0);
    // The host key is filed under the name, not the address ssh dialled.
    const knownHosts = readFileSync(join(dir, 'known_hosts'), 'utf8');
    expect(knownHosts).toContain(`${host} ssh-ed25519 `);
    expect(knownHosts).not.toMatch(/^(192\.0\.2\.2|2001:db8::2)[ ,]/m);
    const status = await inClient(`${knock} ssh -F ${join(dir, 'ssh_config')} ${host} 'exit 3'`);
    expect(status.code).toBe(3);
  });

  it("ssh -o ProxyCommand='knock proxy %h %p' HOST, relaying 2 MB both ways intact", async () => {
    const data = join(dir, 'data.bin');
    writeFileSync(data, Buffer.alloc(2 * 1024 * 1024, 'knock!'));
    const proxy = `-o ProxyCommand='${knock} proxy %h %p'`;
    const result = await inClient(
      `${ssh()} ${proxy} ${host} 'sha256sum; cat ${data}' < ${data} | sha256sum; sha256sum < ${data}`,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [fromServer, ...rest] = result.stdout.trim().split('\n');
    const local = rest.at(-1)?.split(' ')[0];
    expect(local).toMatch(/^[0-9a-f]{64}$/);
    // The remote sha256sum line, then the file echoed back, hashed together here.
    const expected = execFileSync('sh', [
      '-c',
      `{ printf '%s  -\\n' ${local}; cat ${data}; } | sha256sum`,
    ])
      .toString()
      .trim();
    expect(fromServer).toBe(expected);
  });

  it('a wrong sequence leaves ssh closed, and --verify says so (exit 7)', async () => {
    const verify = await inClient(`${knock} --verify --timeout 2 ${host} 1226 1227:udp 1228`);
    expect(verify.code).toBe(7);
    expect(verify.stderr).toContain(`knock: knocked ${host}, but port 22 of ${host}`);
    expect(verify.stderr).toContain('is still closed after 2 s (no answer)');
    expect(await allowed()).toEqual([]);
    const viaSsh = await inClient(
      `${knock} ssh --sequence 1226,1227:udp,1228 --timeout 1 -F ${join(dir, 'ssh_config')} ${host} echo no`,
    );
    expect(viaSsh.code).toBe(7);
    expect(viaSsh.stdout).toBe('');
  });
});
