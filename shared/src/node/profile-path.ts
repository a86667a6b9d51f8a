/**
 * Where the profile file lives, by the platform's conventions:
 *
 *   everywhere  $KNOCK_CONFIG when set
 *   Linux, BSD  $XDG_CONFIG_HOME/knock/config.toml (absolute only, as the XDG spec says),
 *               else ~/.config/knock/config.toml  (DESIGN.md's contract, unchanged)
 *   macOS       $XDG_CONFIG_HOME/knock/config.toml when set (users who set it expect it),
 *               else env-paths' data folder: ~/Library/Application Support/knock/config.toml
 *   Windows     env-paths' config folder: %APPDATA%\knock\Config\config.toml
 *
 * env-paths knows the folders; the choice among them is the pure function below, tested
 * with any platform and environment (env-paths itself reads the real process).
 */
import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';
import envPaths from 'env-paths';

export interface AppDirs {
  /** env-paths' `config` for "knock" (Windows: %APPDATA%\knock\Config). */
  config: string;
  /** env-paths' `data` for "knock" (macOS: ~/Library/Application Support/knock). */
  data: string;
}

export interface PlatformContext {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** The home directory (Unix: $HOME, else the password database's). */
  home: string;
  /** The platform's application folders; called only on macOS and Windows. */
  appDirs: () => AppDirs;
}

export function profilesPathFor({ platform, env, home, appDirs }: PlatformContext): string {
  if (env.KNOCK_CONFIG) return env.KNOCK_CONFIG;
  if (platform === 'win32') return win32.join(appDirs().config, 'config.toml');
  // The XDG spec ignores a relative XDG_CONFIG_HOME.
  if (env.XDG_CONFIG_HOME?.startsWith('/'))
    return posix.join(env.XDG_CONFIG_HOME, 'knock', 'config.toml');
  if (platform === 'darwin') return posix.join(appDirs().data, 'config.toml');
  return posix.join(home, '.config', 'knock', 'config.toml');
}

/** The profile file of this process's platform and `env`. */
export function profilesPath(env: NodeJS.ProcessEnv = process.env): string {
  return profilesPathFor({
    platform: process.platform,
    env,
    home: env.HOME || homedir(),
    appDirs: () => envPaths('knock', { suffix: '' }),
  });
}
