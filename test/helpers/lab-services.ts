/**
 * Services for the end-to-end tests in a lab's server namespace: a plain TCP listener
 * (something for `knock --verify` to find open) and a real sshd with its keys and a
 * client ssh_config, all in one scratch directory.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor, type Lab, type Netns } from './netns.js';

export const SSHD = '/usr/sbin/sshd';

const LISTENER = `
const net = require('node:net');
for (const port of process.argv.slice(1).map(Number))
  net
    .createServer((s) => s.on('error', () => {}).end('hello\\n'))
    .listen({ port, host: '::', ipv6Only: false }, () => console.log('listening ' + port));
`;

/** A TCP listener on `ports` (IPv4 and IPv6) in `ns`; resolves once every port listens. */
export async function startListener(ns: Netns, ports: number[]): Promise<ChildProcess> {
  const child = ns.spawn([process.execPath, '-e', LISTENER, ...ports.map(String)]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const up = await waitFor(() => ports.every((p) => out.includes(`listening ${p}\n`)), 10_000);
  if (!up) {
    child.kill('SIGKILL');
    throw new Error(`the test listener did not come up: ${out}`);
  }
  return child;
}

/**
 * ssh's ConnectTimeout covers the TCP connect AND the banner exchange and key exchange.
 * A login the test expects must not fail because a loaded machine took more than a few
 * seconds to exchange banners, so the written ssh_config allows `SSH_LOGIN_TIMEOUT_S`.
 */
export const SSH_LOGIN_TIMEOUT_S = 15;

/**
 * `ssh` options for an attempt the test expects to be refused by the firewall (SYN
 * dropped): fail after 2 s instead of 15 (an -o on the command line wins over the
 * config file). Check the result with `sshConnectTimedOut`, so that a connection that
 * did get through but was slow to log in does not count as "refused".
 */
export const SSH_REFUSED_OPTS = '-o ConnectTimeout=2';

/**
 * True when ssh's stderr says the TCP connect itself timed out (nothing answered the
 * SYN: the firewall dropped it), as opposed to "Connection timed out during banner
 * exchange" (a connection was made: the port was open) or "Connection refused".
 */
export const sshConnectTimedOut = (stderr: string): boolean =>
  /^ssh: connect to host \S+ port \d+: Connection timed out\r?$/m.test(stderr);

export interface Sshd {
  child: ChildProcess;
  /**
   * `ssh -F FILE`: root with the test key, known_hosts in `dir`, batch mode, a
   * `SSH_LOGIN_TIMEOUT_S` connect timeout (add `SSH_REFUSED_OPTS` when expecting a refusal).
   */
  sshConfig: string;
  /** The output sshd wrote so far (-e: its log on stderr). */
  output(): string;
}

/**
 * A real sshd on port 22 of the server's addresses (IPv4 and IPv6), public-key login
 * for root with a fresh key pair, everything under `dir` (which must exist).
 */
export async function startSshd(lab: Lab, dir: string): Promise<Sshd> {
  chmodSync(dir, 0o755);
  const keygen = (file: string) =>
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'knock-test', '-f', file]);
  keygen(join(dir, 'host_ed25519'));
  keygen(join(dir, 'id_ed25519'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id_ed25519.pub')));
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      'Port 22',
      `ListenAddress ${lab.server4}`,
      `ListenAddress ${lab.server6}`,
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      // "Connection from …" lines: what reached sshd at all.
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const sshConfig = join(dir, 'ssh_config');
  writeFileSync(
    sshConfig,
    [
      'Host *',
      '  User root',
      `  IdentityFile ${join(dir, 'id_ed25519')}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking no',
      '  BatchMode yes',
      `  ConnectTimeout ${SSH_LOGIN_TIMEOUT_S}`,
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const child = lab.server.spawn([SSHD, '-D', '-e', '-f', join(dir, 'sshd_config')]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  if (!(await waitFor(() => out.includes(`Server listening on ${lab.server6}`), 10_000))) {
    child.kill('SIGKILL');
    throw new Error(`sshd did not start: ${out}`);
  }
  return { child, sshConfig, output: () => out };
}
