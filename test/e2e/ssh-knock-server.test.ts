/**
 * End to end, with nothing hand-written in between: a real sshd in the server
 * namespace behind knock-server's OWN nftables firewall (Open_Ports = 22/tcp for 3 s,
 * a ban door, a trusted address), and the built `knock` client. Plain ssh fails;
 * after a knock ssh works for that address only (IPv4 and IPv6); `knock ssh` and the
 * ProxyCommand work; a banned address stays out even with the right knock; the trusted
 * one gets in without knocking; `fw list` shows the grant's remaining time; the grant
 * closes on time, also when knock-server was SIGKILLed right after it (kernel timeout).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeUnless } from '../helpers/describe.js';
import { createLab, netnsSkipReason, type Lab } from '../helpers/netns.js';
import { ensureBuilt, hostsEntry, knockBin } from '../helpers/lab-tools.js';
import {
  buildServer,
  play,
  SERVER_BIN,
  serverLinkReady,
  sleep,
  startKnockServer,
  type RunningDaemon,
} from '../helpers/daemon.js';
import {
  SSHD,
  SSH_REFUSED_OPTS,
  sshConnectTimedOut,
  startSshd,
  type Sshd,
} from '../helpers/lab-services.js';

const skip =
  netnsSkipReason ?? (existsSync(SSHD) ? undefined : 'needs openssh-server (scripts/setup.sh)');

// Short, for the expiry tests, but long enough for a login's SYN to follow the knock on a
// loaded machine. `fw list` looks at a door of its own with a long grant ([listed]).
const OPEN_TIMEOUT = 5;
const LISTED_TIMEOUT = 60;
const SEQUENCE = ['1228', '1227:udp', '1226'];
/** Another IPv6 client address, never granted. */
const OTHER6 = '2001:db8::10';

describeUnless(skip, `ssh behind knock-server's own firewall`, () => {
  let lab: Lab;
  let dir: string;
  let conf: string;
  let host: string;
  let env: NodeJS.ProcessEnv;
  let sshd: Sshd | undefined;
  let daemon: RunningDaemon;
  let removeHosts: (() => void) | undefined;
  /** Extra client addresses: never knocks, banned, trusted. */
  let other: string;
  let banned: string;
  let trusted: string;
  const knock = `${process.execPath} ${knockBin}`;
  const ssh = () => `ssh -F ${sshd?.sshConfig ?? ''}`;
  const inClient = (command: string, timeoutMs = 30_000) =>
    lab.client.exec(['sh', '-c', command], { env, timeoutMs });
  /**
   * `ssh [-b SOURCE] ADDRESS echo WORD`: 'logged in' when it printed WORD, 'refused' when
   * the TCP connect timed out (the firewall dropped the SYN), else what ssh said. `expecting`
   * picks the connect timeout: the config's generous one for an expected login (the
   * handshake counts against it and is slow on a loaded machine), 2 s for a refusal.
   */
  const sshFrom = async (
    source: string | undefined,
    address: string,
    expecting: 'logged in' | 'refused',
  ): Promise<string> => {
    const word = `in-${Math.random().toString(36).slice(2)}`;
    const bind = source ? `-b ${source} ` : '';
    const timeout = expecting === 'refused' ? `${SSH_REFUSED_OPTS} ` : '';
    const result = await inClient(`${ssh()} ${timeout}${bind}${address} echo ${word}`);
    if (result.code === 0 && result.stdout === `${word}\n`) return 'logged in';
    if (sshConnectTimedOut(result.stderr)) return 'refused';
    return `exit ${result.code}: ${result.stderr.trim()}`;
  };
  const fw = (args: string[]) =>
    lab.server.exec([process.execPath, SERVER_BIN, 'fw', ...args, '-c', conf], {
      timeoutMs: 15_000,
    });

  beforeAll(async () => {
    await Promise.all([buildServer(), ensureBuilt()]);
    lab = await createLab({ extraClients: 3 });
    [other, banned, trusted] = lab.extraClient4 as [string, string, string];
    // Deprecated (preferred_lft 0): never chosen as a source unless bound (ssh -b).
    await lab.client.sh(`ip addr add ${OTHER6}/64 dev ${lab.clientIf} nodad preferred_lft 0`);
    await serverLinkReady(lab);
    host = `ssh-knock-server-${lab.id}.test`;
    dir = mkdtempSync(join(tmpdir(), 'knock-ssh-server-'));
    removeHosts = hostsEntry(lab.client, host, [lab.server6, lab.server4]);
    sshd = await startSshd(lab, dir);
    writeFileSync(join(dir, 'trusted'), `# let in without knocking\n${trusted}   # the lab's\n`);
    conf = join(dir, 'knockd.conf');
    writeFileSync(
      conf,
      `[options]
  LogFile      = ${join(dir, 'knockd.log')}
  Firewall     = nftables
  Trusted_File = ${join(dir, 'trusted')}

[openSSH]
  Sequence     = ${SEQUENCE.join(',')}
  Seq_Timeout  = 10
  Open_Ports   = 22/tcp
  Open_Timeout = ${OPEN_TIMEOUT}

[banned1]
  Sequence = 1220,1221
  Ban      = 0

[listed]
  Sequence     = 1240,1241
  Seq_Timeout  = 10
  Open_Ports   = 2200/tcp
  Open_Timeout = ${LISTED_TIMEOUT}
`,
    );
    writeFileSync(
      join(dir, 'config.toml'),
      [
        `[hosts."${host}"]`,
        `sequence = "${SEQUENCE.join(',')}"`,
        'port = 22',
        'family = "any"',
        '',
      ].join('\n'),
    );
    env = { ...process.env, KNOCK_CONFIG: join(dir, 'config.toml'), HOME: dir };
    daemon = startKnockServer(lab, ['-i', lab.serverIf, '-c', conf, '-v']);
    await daemon.line(`starting up, listening on ${lab.serverIf}`, 20_000);
    await daemon.line(/^firewall \(nftables\) set up: protecting 22\/tcp,2200\/tcp, 1 trusted$/);
  }, 60_000);

  beforeEach(async () => {
    // Every test starts with no grant (bans stay: they are the banned test's subject).
    // nft directly: `fw flush filter` is tested in test/firewall, and a node start per test adds up.
    if (lab)
      await lab.server.sh('nft flush set inet knock granted4; nft flush set inet knock granted6');
  });

  afterAll(async () => {
    await daemon?.stop();
    sshd?.child.kill('SIGKILL');
    removeHosts?.();
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('plain ssh is refused, over IPv4 and IPv6', async () => {
    const [v4, v6] = await Promise.all([
      sshFrom(undefined, lab.server4, 'refused'),
      sshFrom(undefined, lab.server6, 'refused'),
    ]);
    expect({ v4, v6 }).toEqual({ v4: 'refused', v6: 'refused' });
    // The firewall refused it, not sshd: nothing reached sshd's accept().
    expect(sshd?.output()).not.toMatch(/Connection from/);
  });

  it('knock HOST && ssh HOST logs in; another address is still refused', async () => {
    const result = await inClient(`${knock} ${host} && ${ssh()} ${host} echo logged-in-$((6*7))`);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('logged-in-42\n');
    expect(result.code).toBe(0);
    // sshd does log what reaches it (so the first test's "nothing reached it" holds).
    expect(sshd?.output()).toMatch(/Connection from (192\.0\.2\.1|2001:db8::1) port/);
    await daemon.line(`${lab.client4}: openSSH: opened 22/tcp for ${OPEN_TIMEOUT} s`);
    await daemon.line(`${lab.client6}: openSSH: opened 22/tcp for ${OPEN_TIMEOUT} s`);
    expect(await sshFrom(other, lab.server4, 'refused')).toBe('refused');
  });

  it('IPv6: the knocking address only', async () => {
    const result = await inClient(
      `${knock} -6 ${lab.server6} ${SEQUENCE.join(' ')} && ${ssh()} -6 ${lab.server6} echo v6-in`,
    );
    expect(result.stdout).toBe('v6-in\n');
    expect(result.code).toBe(0);
    expect(await sshFrom(OTHER6, lab.server6, 'refused')).toBe('refused');
  });

  it('knock ssh HOST, and ssh with ProxyCommand knock proxy %h %p', async () => {
    const viaKnockSsh = await inClient(
      `${knock} ssh -F ${sshd?.sshConfig ?? ''} ${host} echo via-knock-ssh`,
    );
    expect(viaKnockSsh.stdout).toBe('via-knock-ssh\n');
    expect(viaKnockSsh.code).toBe(0);
    // The ProxyCommand must knock for itself.
    expect((await fw(['flush', 'filter'])).code).toBe(0);
    const viaProxy = await inClient(
      `${ssh()} -o ProxyCommand='${knock} proxy %h %p' ${host} echo via-proxy`,
    );
    expect(viaProxy.stderr).toBe('');
    expect(viaProxy.stdout).toBe('via-proxy\n');
    expect(viaProxy.code).toBe(0);
  });

  it('knock-server fw list shows the grant with its remaining time', async () => {
    const from = daemon.lines.length;
    expect((await inClient(`${knock} -4 ${lab.server4} 1240 1241`)).code).toBe(0);
    await daemon.line(
      `${lab.client4}: listed: opened 2200/tcp for ${LISTED_TIMEOUT} s`,
      10_000,
      from,
    );
    const listed = await fw(['list']);
    expect(listed.code, listed.stderr).toBe(0);
    // Counting down from 60 (a long grant: the listing itself can take seconds under load).
    const left = new RegExp(
      `^grant\\s+${lab.client4.replace(/\./g, '\\.')}\\s+2200/tcp\\s+(\\d+)s left$`,
      'm',
    ).exec(listed.stdout);
    expect(Number(left?.[1]), listed.stdout).toBeGreaterThan(LISTED_TIMEOUT - 30);
    expect(Number(left?.[1])).toBeLessThanOrEqual(LISTED_TIMEOUT);
    expect(listed.stdout).not.toContain(other);
  });

  it('a banned address stays out, even with the right knock', async () => {
    const from = daemon.lines.length;
    await play(lab, [
      { tcp: 1220, src: banned },
      { tcp: 1221, src: banned },
    ]);
    await daemon.line(`${banned}: banned1: banned until flushed`, 5000, from);
    await play(lab, [
      { tcp: 1228, src: banned },
      { udp: 1227, src: banned },
      { tcp: 1226, src: banned },
    ]);
    await daemon.line(`${banned}: openSSH: opened 22/tcp for ${OPEN_TIMEOUT} s`, 5000, from);
    expect(await sshFrom(banned, lab.server4, 'refused')).toBe('refused');
    const listed = await fw(['list']);
    expect(listed.stdout).toMatch(
      new RegExp(`^ban\\s+${banned.replace(/\./g, '\\.')}\\s+-\\s+forever$`, 'm'),
    );
  });

  it('the trusted address gets in without knocking', async () => {
    expect(await sshFrom(trusted, lab.server4, 'logged in')).toBe('logged in');
    expect(daemon.lines.join('\n')).not.toContain(`${trusted}: openSSH`);
  });

  it('the grant closes after Open_Timeout', async () => {
    const from = daemon.lines.length;
    expect((await inClient(`${knock} -4 ${lab.server4} ${SEQUENCE.join(' ')}`)).code).toBe(0);
    await daemon.line(`${lab.client4}: openSSH: opened 22/tcp for ${OPEN_TIMEOUT} s`, 5000, from);
    expect(await sshFrom(lab.client4, lab.server4, 'logged in')).toBe('logged in');
    await sleep(OPEN_TIMEOUT * 1000 + 500);
    expect(await sshFrom(lab.client4, lab.server4, 'refused')).toBe('refused');
  });

  // Last: it kills the daemon.
  it('…also when knock-server was SIGKILLed right after the grant (kernel timeout)', async () => {
    const from = daemon.lines.length;
    expect((await inClient(`${knock} -4 ${lab.server4} ${SEQUENCE.join(' ')}`)).code).toBe(0);
    await daemon.line(`${lab.client4}: openSSH: opened 22/tcp for ${OPEN_TIMEOUT} s`, 5000, from);
    const killedAt = Date.now();
    daemon.signal('SIGKILL');
    await daemon.exited;
    expect(await sshFrom(lab.client4, lab.server4, 'logged in')).toBe('logged in');
    // The table outlives the daemon; the kernel drops the grant on time: it was made
    // before the kill, so one second past Open_Timeout after the kill it must be gone.
    await sleep(Math.max(0, killedAt + (OPEN_TIMEOUT + 1) * 1000 - Date.now()));
    expect((await fw(['list'])).stdout).not.toMatch(/^grant/m);
    expect(await sshFrom(lab.client4, lab.server4, 'refused')).toBe('refused');
  });
});
