import { homedir } from 'node:os';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { describe, expect, it } from 'vitest';
import { profilesPath, profilesPathFor, type AppDirs } from '@knock/shared/node';

// What env-paths 3 gives for "knock" (suffix '') on each platform, for user ann.
const mac: AppDirs = {
  config: '/Users/ann/Library/Preferences/knock',
  data: '/Users/ann/Library/Application Support/knock',
};
const windows: AppDirs = {
  config: 'C:\\Users\\ann\\AppData\\Roaming\\knock\\Config',
  data: 'C:\\Users\\ann\\AppData\\Local\\knock\\Data',
};
const never = (): AppDirs => {
  throw new Error('the platform folders are not needed here');
};

describe('profilesPathFor: the platform conventions', () => {
  it('$KNOCK_CONFIG wins on every platform', () => {
    for (const platform of ['linux', 'darwin', 'win32', 'freebsd'] as const)
      expect(
        profilesPathFor({
          platform,
          env: { KNOCK_CONFIG: 'k.toml', XDG_CONFIG_HOME: '/x' },
          home: '/h',
          appDirs: never,
        }),
      ).toBe('k.toml');
  });

  it('Linux and other Unix: $XDG_CONFIG_HOME (absolute), else ~/.config, exactly as DESIGN.md says', () => {
    for (const platform of ['linux', 'freebsd', 'openbsd'] as const) {
      expect(
        profilesPathFor({ platform, env: { XDG_CONFIG_HOME: '/x' }, home: '/h', appDirs: never }),
      ).toBe('/x/knock/config.toml');
      expect(profilesPathFor({ platform, env: {}, home: '/h', appDirs: never })).toBe(
        '/h/.config/knock/config.toml',
      );
      expect(
        profilesPathFor({
          platform,
          env: { XDG_CONFIG_HOME: 'rel', KNOCK_CONFIG: '' },
          home: '/h',
          appDirs: never,
        }),
      ).toBe('/h/.config/knock/config.toml');
    }
  });

  it('macOS: ~/Library/Application Support/knock (env-paths), or $XDG_CONFIG_HOME when set', () => {
    expect(
      profilesPathFor({ platform: 'darwin', env: {}, home: '/Users/ann', appDirs: () => mac }),
    ).toBe('/Users/ann/Library/Application Support/knock/config.toml');
    expect(
      profilesPathFor({
        platform: 'darwin',
        env: { XDG_CONFIG_HOME: '/Users/ann/.cfg' },
        home: '/Users/ann',
        appDirs: never,
      }),
    ).toBe('/Users/ann/.cfg/knock/config.toml');
  });

  it('Windows: %APPDATA%\\knock\\Config\\config.toml (env-paths), with backslashes; XDG is not a Windows thing', () => {
    expect(
      profilesPathFor({
        platform: 'win32',
        env: { XDG_CONFIG_HOME: '/x' },
        home: 'C:\\Users\\ann',
        appDirs: () => windows,
      }),
    ).toBe('C:\\Users\\ann\\AppData\\Roaming\\knock\\Config\\config.toml');
  });
});

describe('profilesPath on this machine', () => {
  it('is the Linux rule, and agrees with env-paths where both apply', () => {
    expect(process.platform).toBe('linux');
    expect(profilesPath({ HOME: '/h' })).toBe('/h/.config/knock/config.toml');
    expect(profilesPath({})).toBe(join(homedir(), '.config', 'knock', 'config.toml'));
    // env-paths reads the real environment: compare with what it says for this process.
    const { XDG_CONFIG_HOME } = process.env;
    const expected = XDG_CONFIG_HOME?.startsWith('/')
      ? XDG_CONFIG_HOME
      : join(homedir(), '.config');
    expect(envPaths('knock', { suffix: '' }).config).toBe(join(expected, 'knock'));
    expect(profilesPath({ ...process.env, KNOCK_CONFIG: '', HOME: homedir() })).toBe(
      join(envPaths('knock', { suffix: '' }).config, 'config.toml'),
    );
  });
});
