/**
 * The lab of the session-scoped tests (issue 12): a real sshd and a plain listener on
 * 2222 behind knock-server's own nftables firewall, an open door (Open_Timeout = 20),
 * its Revoke door, a command door with a long Cmd_Timeout and its Revoke door, and a
 * profile with open_for = 20, close_sequence and keep_open.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createLab, netnsSkipReason, type Lab } from '../helpers/netns.js';
import { ensureBuilt, hostsEntry, knockBin } from '../client/lab-tools.js';
import {
  buildServer,
  serverLinkReady,
  startKnockServer,
  type RunningDaemon,
} from '../server/daemon-helpers.js';
import { SSHD, startListener, startSshd, type Sshd } from './lab-services.js';

export const sessionSkip =
  netnsSkipReason ?? (existsSync(SSHD) ? undefined : 'needs openssh-server (scripts/setup.sh)');

export const OPEN_FOR = 20;
export const OPEN = '7000,8000,9000';
export const CLOSE = '9000,8000,7000';
/** The plain listener the 100 ms probe connects to (protected like 22). */
export const PROBE_PORT = 2222;

export interface SessionLab {
  lab: Lab;
  dir: string;
  host: string;
  env: NodeJS.ProcessEnv;
  sshd: Sshd;
  daemon: RunningDaemon;
  knock: string;
  ssh: string;
  inClient(command: string, timeoutMs?: number): ReturnType<Lab['client']['exec']>;
  /** Whether `address` has a grant in the kernel set now. */
  granted(address: string): Promise<boolean>;
  destroy(): Promise<void>;
}

export async function createSessionLab(name: string): Promise<SessionLab> {
  await Promise.all([buildServer(), ensureBuilt()]);
  const lab = await createLab();
  const children: ChildProcess[] = [];
  let removeHosts: (() => void) | undefined;
  const dir = mkdtempSync(join(tmpdir(), `knock-${name}-`));
  try {
    await serverLinkReady(lab);
    const host = `${name}-${lab.id}.test`;
    removeHosts = hostsEntry(lab.client, host, [lab.server4, lab.server6]);
    const sshd = await startSshd(lab, dir);
    children.push(sshd.child, await startListener(lab.server, [PROBE_PORT]));
    const conf = join(dir, 'knockd.conf');
    writeFileSync(
      conf,
      `[options]
  LogFile  = ${join(dir, 'knockd.log')}
  Firewall = nftables

[openSSH]
  Sequence     = ${OPEN}
  Seq_Timeout  = 5
  Open_Ports   = 22/tcp,${PROBE_PORT}/tcp
  Open_Timeout = ${OPEN_FOR}

[closeSSH]
  Sequence    = ${CLOSE}
  Seq_Timeout = 5
  Revoke      = openSSH

[runCmd]
  Sequence      = 7100,8100
  Start_Command = /bin/echo started %IP% >> ${join(dir, 'cmd.log')}
  Cmd_Timeout   = 3600
  Stop_Command  = /bin/echo stopped %IP% >> ${join(dir, 'cmd.log')}

[closeCmd]
  Sequence = 8100,7100
  Revoke   = runCmd
`,
    );
    writeFileSync(
      join(dir, 'config.toml'),
      [
        `[hosts."${host}"]`,
        `sequence = "${OPEN}"`,
        'port = 22',
        `open_for = ${OPEN_FOR}`,
        `close_sequence = "${CLOSE}"`,
        'keep_open = true',
        '',
      ].join('\n'),
    );
    const env = { ...process.env, KNOCK_CONFIG: join(dir, 'config.toml'), HOME: dir };
    const daemon = startKnockServer(lab, ['-i', lab.serverIf, '-c', conf, '-v']);
    await daemon.line(`starting up, listening on ${lab.serverIf}`, 20_000);
    await daemon.line(/^firewall \(nftables\) set up: protecting 22\/tcp,2222\/tcp, 0 trusted$/);
    return {
      lab,
      dir,
      host,
      env,
      sshd,
      daemon,
      knock: `${process.execPath} ${knockBin}`,
      ssh: `ssh -F ${sshd.sshConfig}`,
      inClient: (command, timeoutMs = 30_000) =>
        lab.client.exec(['sh', '-c', command], { env, timeoutMs }),
      granted: async (address) => {
        const sets = await lab.server.sh(
          'nft list set inet knock granted4; nft list set inet knock granted6',
        );
        const escaped = address.replace(/[.:]/g, (c) => `\\${c}`);
        return new RegExp(`${escaped} \\. tcp \\. 22\\b`).test(sets);
      },
      destroy: async () => {
        await daemon.stop();
        for (const c of children) c.kill('SIGKILL');
        removeHosts?.();
        await lab.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const c of children) c.kill('SIGKILL');
    removeHosts?.();
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A node script for the client namespace: connects to HOST:PORT every `everyMs` for
 * `forMs`, and prints one JSON line: attempts, and the ones not connected within 800 ms
 * (a SYN the firewall dropped) or refused.
 */
export const PROBE_SCRIPT = `
const net = require('node:net');
const [host, port, everyMs, forMs] = process.argv.slice(1);
const end = Date.now() + Number(forMs);
let attempts = 0;
const failed = [];
const pending = new Set();
const tick = () => {
  if (Date.now() >= end) {
    Promise.all(pending).then(() => console.log(JSON.stringify({ attempts, failed })));
    return;
  }
  attempts++;
  const at = Date.now();
  const p = new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port) });
    const timer = setTimeout(() => { failed.push({ at, why: 'no answer in 800 ms' }); s.destroy(); resolve(); }, 800);
    s.on('connect', () => { clearTimeout(timer); s.destroy(); resolve(); });
    s.on('error', (e) => { clearTimeout(timer); failed.push({ at, why: e.code }); resolve(); });
  });
  pending.add(p);
  p.then(() => pending.delete(p));
  setTimeout(tick, Number(everyMs));
};
tick();
`;
