/**
 * Session-scoped access, the long run (issue 12): with Open_Timeout = 20 and a profile
 * with open_for = 20 and keep_open, an ssh session through `knock proxy` and one through
 * `knock ssh` stay usable for 60 s (three times the grant) while new connections keep
 * being accepted: a probe connects every 100 ms across the client's refreshes and none
 * may go unanswered. When the sessions end, the close sequence revokes the grant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OPEN_FOR,
  PROBE_PORT,
  PROBE_SCRIPT,
  createSessionLab,
  sessionSkip,
  type SessionLab,
} from './session-lab.js';
import { SSH_REFUSED_OPTS, sshConnectTimedOut } from '../helpers/lab-services.js';
import { waitFor } from '../helpers/netns.js';

const SESSION_S = 60;

describe.skipIf(sessionSkip !== undefined)(
  `a kept session outlives its grant${sessionSkip ? ` (skipped: ${sessionSkip})` : ''}`,
  () => {
    let s: SessionLab;
    beforeAll(async () => {
      s = await createSessionLab('keep');
    }, 60_000);
    afterAll(async () => {
      await s?.destroy();
    });

    it(
      `knock proxy and knock ssh sessions live ${SESSION_S} s; every 100 ms probe connects; the close revokes`,
      async () => {
        const { lab, host, knock, ssh, daemon } = s;
        // A remote loop: one line every 5 s for 60 s, over the one connection.
        const ticks = SESSION_S / 5;
        const loop = `'for i in $(seq ${ticks}); do echo tick $i; sleep 5; done'`;
        const started = Date.now();
        const stamps: string[] = [];
        daemon.child.stdout?.on('data', (d: Buffer) =>
          stamps.push(
            `${((Date.now() - started) / 1000).toFixed(1)} ${d.toString().trim().replace(/\n/g, ' | ')}`,
          ),
        );
        const viaProxy = s.inClient(
          `${ssh} -4 -o ProxyCommand='${knock} proxy %h %p' ${host} ${loop}`,
          (SESSION_S + 20) * 1000,
        );
        const viaSsh = s.inClient(
          `${knock} ssh -F ${s.sshd.sshConfig} -4 ${host} ${loop}`,
          (SESSION_S + 20) * 1000,
        );
        // The grant is in place: then probe a protected port every 100 ms until the
        // sessions are nearly over (each refresh of the grant falls inside this window).
        expect(await waitFor(() => s.granted(lab.client4), 10_000, 50)).toBe(true);
        const probing = lab.client.exec(
          [
            process.execPath,
            '-e',
            PROBE_SCRIPT,
            lab.server4,
            String(PROBE_PORT),
            '100',
            String((SESSION_S - 8) * 1000),
          ],
          { timeoutMs: (SESSION_S + 10) * 1000 },
        );
        // New ssh logins well after the first grant would have run out.
        const logins: string[] = [];
        for (const at of [OPEN_FOR + 5, 2 * OPEN_FOR + 5]) {
          await new Promise((r) => setTimeout(r, Math.max(0, started + at * 1000 - Date.now())));
          const login = await s.inClient(`${ssh} -4 ${host} echo new-login`);
          logins.push(`${login.stdout}${login.stderr}`);
          stamps.push(
            `${((Date.now() - started) / 1000).toFixed(1)} login ${login.stdout}${login.stderr}`,
          );
        }
        const probe = JSON.parse((await probing).stdout) as { attempts: number; failed: unknown[] };
        const [proxy, direct] = await Promise.all([viaProxy, viaSsh]);
        const endedAt = Date.now();
        const expected = Array.from({ length: ticks }, (_, i) => `tick ${i + 1}\n`).join('');
        expect(proxy.stdout, proxy.stderr).toBe(expected);
        expect(direct.stdout, direct.stderr).toBe(expected);
        expect(proxy.stderr).toBe('');
        expect(direct.stderr).toBe('');
        expect(logins, stamps.join('\n')).toEqual(['new-login\n', 'new-login\n']);
        expect(probe.failed, stamps.join('\n')).toEqual([]);
        expect(probe.attempts).toBeGreaterThan(400);
        // The grant was refreshed (each session re-knocks every 13.3 s): at least three
        // refreshes happened inside the probe window.
        const opened = daemon.lines.filter(
          (l) => l === `${lab.client4}: openSSH: opened 22/tcp,${PROBE_PORT}/tcp for ${OPEN_FOR} s`,
        );
        expect(opened.length).toBeGreaterThanOrEqual(1 + 3);
        // The sessions ended: the close sequence revoked the grant within a second.
        expect(await waitFor(async () => !(await s.granted(lab.client4)), 1000, 20)).toBe(true);
        expect(Date.now() - endedAt).toBeLessThan(1500);
        await daemon.line(
          `${lab.client4}: closeSSH: revoked 22/tcp,${PROBE_PORT}/tcp (granted by openSSH)`,
          2000,
        );
        const after = await s.inClient(`${ssh} -4 ${SSH_REFUSED_OPTS} ${host} echo should-not-run`);
        expect(after.stdout).toBe('');
        expect(after.code).toBe(255);
        expect(sshConnectTimedOut(after.stderr), after.stderr).toBe(true);
      },
      (SESSION_S + 40) * 1000,
    );
  },
);
