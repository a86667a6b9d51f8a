// scripts/setup.sh installs Debian packages behind a temporary policy-rc.d (so sshd and
// knockd do not start here). A failed or interrupted install must never leave that file
// behind: it would block every service start on the host. KNOCK_POLICY_RC points the step
// at a file of the test's own, so the host's /usr/sbin/policy-rc.d is never touched.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeUnless } from '../helpers/describe.js';

const setup = resolve(import.meta.dirname, '../../scripts/setup.sh');
const skip = process.getuid?.() !== 0 ? 'needs root (the apt step runs only as root)' : undefined;

describeUnless(skip, `setup.sh apt step`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'knock-setup-'));
  const policy = join(dir, 'policy-rc.d');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Runs setup.sh with every package missing and `apt-get install` replaced by `install`
   * (which prints "policy-in-place" when it finds the policy file there during the install).
   * `onInstall` is called once the stub install has started.
   */
  function runSetup(install: string, onInstall?: (pid: number) => void) {
    writeFileSync(join(dir, 'dpkg-query'), '#!/bin/sh\nexit 1\n');
    writeFileSync(
      join(dir, 'apt-get'),
      `#!/bin/sh\n[ "$1" = update ] && exit 0\n[ -x "${policy}" ] && echo policy-in-place >&2\n${install}\n`,
    );
    for (const f of ['dpkg-query', 'apt-get']) chmodSync(join(dir, f), 0o755);
    // Its own process group, so the test can interrupt it as a terminal's Ctrl+C does.
    const child = spawn('bash', [setup], {
      detached: true,
      env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, KNOCK_POLICY_RC: policy },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      const before = stderr;
      stderr += d.toString();
      if (!before.includes('installing…') && stderr.includes('installing…'))
        onInstall?.(child.pid ?? 0);
    });
    return new Promise<{ code: number | null; stderr: string }>((done) =>
      child.on('close', (code) => done({ code, stderr })),
    );
  }

  it('removes its policy-rc.d when apt-get install fails', async () => {
    const result = await runSetup('exit 100');
    expect(result.stderr).toContain('policy-in-place');
    expect(result.code).toBe(100);
    expect(existsSync(policy)).toBe(false);
  });

  it('removes it when interrupted (Ctrl+C) during the install', async () => {
    let interrupted = false;
    const result = await runSetup('echo installing… >&2; sleep 20', (pid) => {
      interrupted = true;
      process.kill(-pid, 'SIGINT');
    });
    expect(interrupted).toBe(true);
    expect(result.code).toBe(130);
    expect(existsSync(policy)).toBe(false);
  });

  it('leaves alone a policy-rc.d that was there before', async () => {
    writeFileSync(policy, "#!/bin/sh\n# the host's own\nexit 101\n", { mode: 0o755 });
    const result = await runSetup('exit 100');
    expect(result.code).toBe(100);
    expect(existsSync(policy)).toBe(true);
    rmSync(policy);
  });
});
