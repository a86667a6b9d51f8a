import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveSequence, ExitCode, parseSecret, profileSpec } from '@knock/shared';
import { loadProfiles } from '@knock/shared/node';
import { parseProfiles } from '@knock/shared/profiles';
import { nodeDeps } from '../../src/node-deps.js';
import { SECRET, rotatingKeys } from '../../../shared/test/helpers/ui-fakes.js';
import { fake, profile, run } from '../helpers/fake-deps.js';

const rotating = rotatingKeys();
const NOW = Date.UTC(2026, 11, 2, 13, 0, 5);
const STEP = Math.floor(NOW / 30_000);
const derived = (family: 4 | 6, step = STEP) =>
  deriveSequence(profileSpec(rotating, parseSecret(SECRET).secret!), family, step);

const dir = mkdtempSync(join(tmpdir(), 'knock-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setup(extra: Parameters<typeof fake>[0] = {}) {
  const f = fake({
    profiles: [profile('ssh.example.org', { rotating, port: 22 })],
    addresses: { 'ssh.example.org': ['2001:db8::2', '192.0.2.2'] },
    ...extra,
  });
  f.deps.now = () => NOW;
  return f;
}

describe('knock HOST with a rotating profile', () => {
  it("knocks the current step's sequence of each address family", async () => {
    const { code, f } = await run(['ssh.example.org'], setup());
    expect(code).toBe(0);
    expect(f.sends.map((s) => [s.addresses, s.knocks])).toEqual([
      [['192.0.2.2'], derived(4)],
      [['2001:db8::2'], derived(6)],
    ]);
  });

  it('-u does not turn the derived knocks into UDP (the server expects them as derived)', async () => {
    const { f } = await run(['-u', 'ssh.example.org'], setup());
    expect(f.sends[0]?.knocks).toEqual(derived(4));
  });

  it('--verify that fails names the clocks: not a silent closed port', async () => {
    const { code, stderr } = await run(
      ['--verify', 'ssh.example.org'],
      setup({ verify: { state: 'timeout' } }),
    );
    expect(code).toBe(ExitCode.closed);
    expect(stderr).toContain('is still closed');
    expect(stderr).toContain(`rotating door (step ${STEP}, 30 s per step)`);
    expect(stderr).toContain("this computer's clock (2026-12-02 13:00:05 UTC)");
  });

  it('knock ssh and knock proxy knock the rotating sequence too', async () => {
    const ssh = await run(
      ['ssh', 'ssh.example.org'],
      setup({
        sshG: { code: 0, stdout: 'hostname ssh.example.org\nport 22\naddressfamily inet\n' },
      }),
    );
    expect(ssh.f.sends[0]?.knocks).toEqual(derived(4));
    const proxy = await run(['proxy', 'ssh.example.org', '22', '-4'], setup());
    expect(proxy.f.sends[0]?.knocks).toEqual(derived(4));
  });
});

/** The fake, with the real profile file, editor and secret file effects of bin/knock. */
function withRealFiles(f = fake()) {
  const real = nodeDeps();
  f.deps.env = { HOME: dir };
  f.deps.loadProfiles = real.loadProfiles;
  f.deps.updateProfile = real.updateProfile;
  f.deps.writeSecretFile = real.writeSecretFile;
  return f;
}

describe('knock import URI', () => {
  const uri = `knock://ssh.example.org?door=ssh&secret=${SECRET}&port=22`;

  it('adds a profile whose secret is in a 0600 file of its own', async () => {
    const config = join(dir, 'a', 'config.toml');
    const f = withRealFiles();
    const { code, stdout } = await run(['import', '--config', config, uri], f);
    expect(code).toBe(0);
    expect(stdout).toContain(`added the profile for ssh.example.org in ${config}`);
    const text = readFileSync(config, 'utf8');
    const parsed = parseProfiles(text, config);
    expect(parsed.issues).toEqual([]);
    const secretFile = join(dir, 'a', 'ssh.example.org-ssh.secret');
    // Written as a path under the home folder (the editor writes such paths as ~/…).
    expect(text).toContain('secret_file = "~/a/ssh.example.org-ssh.secret"');
    const loaded = await loadProfiles({ path: config, env: { HOME: dir } });
    expect(loaded.profiles[0]).toMatchObject({
      host: 'ssh.example.org',
      port: 22,
      rotating: { door: 'ssh', secretFile, length: 4, step: 30, low: 10000, high: 65000 },
    });
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(secretFile, 'utf8')).toContain(SECRET);
    expect(text).not.toContain(SECRET);

    // A second import of the same host needs --force.
    const again = await run(['import', '--config', config, uri], f);
    expect(again.code).toBe(ExitCode.usage);
    expect(again.stderr).toContain('a profile for "ssh.example.org" exists');
    expect((await run(['import', '--force', '--inline', '--config', config, uri], f)).code).toBe(0);
    const inline = readFileSync(config, 'utf8');
    expect(inline).toContain(`secret = "${SECRET}"`);
    expect(inline).not.toContain('secret_file');
  });

  it('writes the profile through the profile editor: comments, order and other profiles stay', async () => {
    const config = join(dir, 'c', 'config.toml');
    mkdirSync(join(dir, 'c'), { recursive: true });
    const before = [
      '# my hosts',
      '[hosts."lab.example.org"]   # the lab',
      "sequence = '7000,8000'  # old door",
      'colour = "blue"',
      '',
      '[hosts."ssh.example.org"]',
      '# knocked from home',
      'sequence = "1228,1227"',
      'verify_timeout_ms = 9000',
      '',
      '[hosts."zz.example.org"]',
      'sequence = "1,2"',
      '',
    ].join('\n');
    writeFileSync(config, before);
    const f = withRealFiles();
    const { code, stderr } = await run(['import', '--force', '--config', config, uri], f);
    expect(code, stderr).toBe(0);
    const after = readFileSync(config, 'utf8');
    // Only the lines of the replaced profile changed; the sequence gave way to the secret.
    expect(after).toBe(
      [
        '# my hosts',
        '[hosts."lab.example.org"]   # the lab',
        "sequence = '7000,8000'  # old door",
        'colour = "blue"',
        '',
        '[hosts."ssh.example.org"]',
        '# knocked from home',
        'verify_timeout_ms = 9000',
        'secret_file = "~/c/ssh.example.org-ssh.secret"',
        'door = "ssh"',
        'length = 4',
        'step = 30',
        'ports = "10000-65000"',
        'port = 22',
        '',
        '[hosts."zz.example.org"]',
        'sequence = "1,2"',
        '',
      ].join('\n'),
    );
    expect(readFileSync(`${config}.bak`, 'utf8')).toBe(before);
  });

  it('asks the editor for one change and writes nothing when the URI is refused', async () => {
    const f = fake({ profiles: [] });
    const ok = await run(['import', uri], f);
    expect(ok.code, ok.stderr).toBe(0);
    expect(f.profileChanges).toEqual([
      {
        path: '/home/u/.config/knock/config.toml',
        change: {
          type: 'put',
          original: null,
          profile: {
            host: 'ssh.example.org',
            family: 'any',
            delayMs: 0,
            port: 22,
            rotating: {
              door: 'ssh',
              length: 4,
              step: 30,
              low: 10000,
              high: 65000,
              protocols: 'tcp',
              secretFile: '/home/u/.config/knock/ssh.example.org-ssh.secret',
            },
          },
        },
      },
    ]);
    expect(f.secretFiles.map((s) => s.path)).toEqual([
      '/home/u/.config/knock/ssh.example.org-ssh.secret',
    ]);
    const bad = fake({ profiles: [] });
    expect((await run(['import', 'knock://h?door=ssh'], bad)).code).toBe(ExitCode.usage);
    expect(bad.profileChanges).toEqual([]);
    expect(bad.secretFiles).toEqual([]);
  });

  it('a broken URI is a usage error that says what is wrong', async () => {
    const { code, stderr } = await run([
      'import',
      '--config',
      join(dir, 'b.toml'),
      'knock://h?door=ssh&secret=JBSWY3DP',
    ]);
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toMatch(/knock import: secret=: the secret is too short/);
  });
});
