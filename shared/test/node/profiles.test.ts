import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, KnockError, invalidProfileError } from '@knock/shared';
import { findProfile, loadProfiles, profilesPath } from '@knock/shared/node';

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
    expect(loaded).toMatchObject({ path, exists: true, warnings: [], invalid: [] });
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
      invalid: [],
    });
    expect(
      (await loadProfiles({ env: { XDG_CONFIG_HOME: join(dir, 'xdg'), HOME: '/nonexistent' } }))
        .path,
    ).toBe(join(dir, 'xdg/knock/config.toml'));
  });

  it('fails, with ExitCode.config, file:line and the hint, only when nothing can be used', async () => {
    const syntax = await loadProfiles({ path: file('[hosts."a"\n') }).catch((e: unknown) => e);
    expect(syntax).toBeInstanceOf(KnockError);
    expect(syntax).toMatchObject({ code: 'profile.invalid', exitCode: ExitCode.config });
    expect((syntax as KnockError).message).toMatch(/:1:\d+: error: TOML syntax error/);
    await expect(loadProfiles({ path: file('hosts = 3\n') })).rejects.toMatchObject({
      code: 'profile.invalid',
    });
  });

  it('skips a bad profile: the others load, and knocking it names every problem', async () => {
    const path = file(
      '[hosts."a"]\nsequence = "1"\nprot = 22\nfamily = "x"\n\n[hosts.b]\nsequence = "2"\n',
    );
    const loaded = await loadProfiles({ path });
    expect(loaded.profiles.map((p) => p.host)).toEqual(['b']);
    expect(loaded.invalid.map((i) => i.host)).toEqual(['a']);
    expect(loaded.warnings.map((w) => `${w.line}:${w.column} ${w.message}`)).toEqual([
      '3:1 [hosts."a"]: unknown key "prot" (ignored)',
      '4:10 the profile for a is skipped: [hosts."a"]: family must be "any", "ipv4" or "ipv6", not "x"',
    ]);
    const error = invalidProfileError(loaded, 'A');
    expect(error).toMatchObject({ code: 'profile.invalid', exitCode: ExitCode.config });
    expect(error?.message).toBe(
      `the profile for a in ${path} cannot be used:\n  ${path}:4:10: error: [hosts."a"]: family must be "any", "ipv4" or "ipv6", not "x"`,
    );
    expect(invalidProfileError(loaded, 'b')).toBeUndefined();
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
