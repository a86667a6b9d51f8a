/**
 * Session-scoped access, the ends of a session (issue 12): when ssh exits, `knock ssh` and
 * `knock proxy` knock the close sequence and the server's Revoke door takes the grant back
 * within a second (a new ssh is refused); a client killed with SIGKILL knocks nothing and
 * the grant expires on its own at its time; Revoke on a command door runs the pending
 * Stop_Command at once instead of after its Cmd_Timeout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SSH_REFUSED_OPTS, sshConnectTimedOut } from '../helpers/lab-services.js';
import { waitFor } from '../helpers/netns.js';
import { sleep } from '../server/daemon-helpers.js';
import { knockBin } from '../client/lab-tools.js';
import { OPEN_FOR, createSessionLab, sessionSkip, type SessionLab } from './session-lab.js';

describe.skipIf(sessionSkip !== undefined)(
  `the end of a kept session${sessionSkip ? ` (skipped: ${sessionSkip})` : ''}`,
  () => {
    let s: SessionLab;
    beforeAll(async () => {
      s = await createSessionLab('close');
    }, 60_000);
    beforeEach(async () => {
      if (s)
        await s.lab.server.sh(
          'nft flush set inet knock granted4; nft flush set inet knock granted6',
        );
    });
    afterAll(async () => {
      await s?.destroy();
    });

    /** Runs `command` (an ssh session); how long after it returned the grant was gone. */
    const revokedAfterExit = async (command: string) => {
      const result = await s.inClient(command);
      const exited = Date.now();
      const gone = await waitFor(async () => !(await s.granted(s.lab.client4)), 2000, 20);
      return { result, gone, ms: Date.now() - exited };
    };

    it('knock ssh: after ssh exits the close sequence revokes within a second; a new ssh is refused', async () => {
      const { result, gone, ms } = await revokedAfterExit(
        `${s.knock} ssh -F ${s.sshd.sshConfig} -4 ${s.host} echo in`,
      );
      expect(result.stdout, result.stderr).toBe('in\n');
      expect(gone).toBe(true);
      expect(ms).toBeLessThan(1000);
      const again = await s.inClient(`${s.ssh} -4 ${SSH_REFUSED_OPTS} ${s.host} echo no`);
      expect(again.code).toBe(255);
      expect(sshConnectTimedOut(again.stderr), again.stderr).toBe(true);
    });

    it('knock proxy: ssh ends its ProxyCommand (SIGHUP); the close sequence still goes out', async () => {
      const { result, gone, ms } = await revokedAfterExit(
        `${s.ssh} -4 -o ProxyCommand='${s.knock} proxy %h %p' ${s.host} echo in`,
      );
      expect(result.stdout, result.stderr).toBe('in\n');
      expect(result.stderr).toBe('');
      expect(gone).toBe(true);
      expect(ms).toBeLessThan(1000);
      const again = await s.inClient(`${s.ssh} -4 ${SSH_REFUSED_OPTS} ${s.host} echo no`);
      expect(again.code).toBe(255);
      expect(sshConnectTimedOut(again.stderr), again.stderr).toBe(true);
    });

    it('SIGKILL of the client knocks nothing: the grant expires on its own, at its time', async () => {
      const from = s.daemon.lines.length;
      const client = s.lab.client.spawn(
        [process.execPath, knockBin, 'ssh', '-F', s.sshd.sshConfig, '-4', s.host, 'sleep 40'],
        { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      await s.daemon.line(/: openSSH: opened 22\/tcp,2222\/tcp for 20 s$/, 10_000, from);
      const grantedAt = Date.now();
      expect(await waitFor(() => s.granted(s.lab.client4), 10_000, 20)).toBe(true);
      client.kill('SIGKILL');
      // Still granted a while later (nobody closed it)…
      await sleep(3000);
      expect(await s.granted(s.lab.client4)).toBe(true);
      // …and gone once Open_Timeout has passed, by the kernel's timeout.
      await sleep(Math.max(0, grantedAt + OPEN_FOR * 1000 - 1000 - Date.now()));
      expect(await s.granted(s.lab.client4)).toBe(true);
      expect(await waitFor(async () => !(await s.granted(s.lab.client4)), 3000, 50)).toBe(true);
      expect(Date.now() - grantedAt).toBeGreaterThanOrEqual(OPEN_FOR * 1000 - 1000);
      expect(s.daemon.lines.slice(from).join('\n')).not.toContain('closeSSH: OPEN SESAME');
    }, 40_000);

    it('Revoke on a command door runs its pending Stop_Command at once', async () => {
      const from = s.daemon.lines.length;
      const log = join(s.dir, 'cmd.log');
      expect((await s.inClient(`${s.knock} -4 ${s.lab.server4} 7100 8100`)).code).toBe(0);
      expect(await waitFor(() => read(log).includes(`started ${s.lab.client4}`), 5000)).toBe(true);
      const t = Date.now();
      expect((await s.inClient(`${s.knock} -4 ${s.lab.server4} 8100 7100`)).code).toBe(0);
      expect(await waitFor(() => read(log).includes(`stopped ${s.lab.client4}`), 2000, 20)).toBe(
        true,
      );
      expect(Date.now() - t).toBeLessThan(1500);
      await s.daemon.line(
        `${s.lab.client4}: runCmd: revoked: running the stop command now`,
        2000,
        from,
      );
      // Once: nothing left pending for it.
      expect(
        read(log)
          .split('\n')
          .filter((l) => l.startsWith('stopped')),
      ).toHaveLength(1);
    });
  },
);

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
