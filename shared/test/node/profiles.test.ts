import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  mkdirSync,
  chmodSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, KnockError, type Profile } from '@knock/shared';
import { findProfile, loadProfiles, profilesPath, saveProfiles } from '@knock/shared/node';

const dir = mkdtempSync(join(tmpdir(), 'knock-profiles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (text: string) => {
  const path = join(dir, `c${n++}.toml`);
  writeFileSync(path, text);
  return path;
};

describe('profilesPath', () => {
  it('prefers $KNOCK_CONFIG, then $XDG_CONFIG_HOME, then ~/.config', () => {
    expect(profilesPath({ KNOCK_CONFIG: '/etc/k.toml', XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe(
      '/etc/k.toml',
    );
    expect(profilesPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/knock/config.toml');
    expect(profilesPath({ HOME: '/h' })).toBe('/h/.config/knock/config.toml');
    // A relative XDG_CONFIG_HOME is ignored (XDG spec); an empty variable is unset.
    expect(profilesPath({ XDG_CONFIG_HOME: 'rel', KNOCK_CONFIG: '', HOME: '/h' })).toBe(
      '/h/.config/knock/config.toml',
    );
    expect(profilesPath({})).toBe(join(homedir(), '.config/knock/config.toml'));
  });
});

describe('loadProfiles', () => {
  it('reads the file at $KNOCK_CONFIG and expands ~ in one_time_sequences', async () => {
    const path = file(
      '[hosts."ssh.maths.fr"]\nsequence = "1228,1227"\nport = 22\n\n[hosts.lab]\none_time_sequences = "~/k/lab.ots"\n',
    );
    const loaded = await loadProfiles({ env: { KNOCK_CONFIG: path, HOME: '/home/ana' } });
    expect(loaded).toMatchObject({ path, exists: true, warnings: [] });
    expect(loaded.profiles.map((p) => p.host)).toEqual(['ssh.maths.fr', 'lab']);
    expect(loaded.profiles[1]?.oneTimeSequences).toBe('/home/ana/k/lab.ots');
    expect(findProfile(loaded.profiles, 'ssh.maths.fr')?.port).toBe(22);
  });

  it('treats a missing file as no profiles', async () => {
    const path = join(dir, 'none/config.toml');
    expect(await loadProfiles({ path })).toEqual({
      path,
      profiles: [],
      exists: false,
      warnings: [],
    });
    expect(
      (await loadProfiles({ env: { XDG_CONFIG_HOME: join(dir, 'xdg'), HOME: '/nonexistent' } }))
        .path,
    ).toBe(join(dir, 'xdg/knock/config.toml'));
  });

  it('fails on a bad file with ExitCode.config, file:line and the hint', async () => {
    const path = file('[hosts."a"]\nsequence = "1"\nprot = 22\nfamily = "x"\n');
    const error = await loadProfiles({ path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KnockError);
    expect(error).toMatchObject({
      code: 'profile.invalid',
      exitCode: ExitCode.config,
      hint: 'did you mean port?',
    });
    expect((error as KnockError).message).toBe(
      `${path}:3:8: error: [hosts."a"]: unknown key "prot" (and 1 more problem)`,
    );
    const syntax = await loadProfiles({ path: file('[hosts."a"\n') }).catch((e: unknown) => e);
    expect((syntax as KnockError).message).toMatch(/:1:\d+: error: TOML syntax error/);
  });

  it('reports an unreadable file', async () => {
    const path = join(dir, 'adir');
    mkdirSync(path);
    await expect(loadProfiles({ path })).rejects.toMatchObject({
      code: 'profile.unreadable',
      exitCode: ExitCode.config,
    });
  });
});

describe('saveProfiles', () => {
  const profiles: Profile[] = [
    {
      host: 'ssh.maths.fr',
      sequence: [
        { port: 1228, protocol: 'tcp' },
        { port: 1227, protocol: 'tcp' },
      ],
      port: 22,
      family: 'any',
      delayMs: 0,
    },
    { host: 'lab', oneTimeSequences: '/home/ana/k/lab.ots', family: 'ipv4', delayMs: 10 },
  ];

  it('creates the directory, writes 0600, and loads back the same profiles', async () => {
    const path = join(dir, 'new/knock/config.toml');
    const env = { HOME: '/home/ana' };
    await saveProfiles(path, profiles, { env });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toContain('one_time_sequences = "~/k/lab.ots"');
    expect((await loadProfiles({ path, env })).profiles).toEqual(profiles);
  });

  it('replaces an existing file atomically, keeping its mode', async () => {
    const path = file('[hosts.old]\nsequence = "1"\n');
    chmodSync(path, 0o644);
    await saveProfiles(path, profiles.slice(0, 1));
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect((await loadProfiles({ path })).profiles.map((p) => p.host)).toEqual(['ssh.maths.fr']);
  });
});
