import { ExitCode, loadServices, lookupService, parseOtsFile, servicesFile } from '@knock/shared';
import type { KnockDeps, KnockService, ProfileStore } from '@knock/shared/node';
import { readFile } from 'node:fs/promises';
import { createElement } from 'react';
import { colorWanted } from './theme.js';

/**
 * Everything the TUI touches, injectable. Left out, each comes from
 * @knock/shared/node and process.*; `store`/`knocker` replace the lower-level
 * functions wholesale (tests use that).
 */
export interface TuiDeps extends KnockDeps {
  env: NodeJS.ProcessEnv;
  /** The profile file; default: profilesPath(env) ($KNOCK_CONFIG, else the XDG path). */
  path?: string;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: { write(text: string): unknown };
  store: ProfileStore;
  knocker: KnockService;
  /** Reads a file (one-time files, /etc/services); default fs.readFile. */
  readText(path: string): Promise<string>;
}

/** Switch to the terminal's alternate screen (the last frame does not stay in the scrollback) and back. */
export const ALT_SCREEN_ON = '\x1b[?1049h';
export const ALT_SCREEN_OFF = '\x1b[?1049l';

/** Runs `knock ui` until the user quits; resolves to the exit code (no process.exit here). */
export async function runTui(deps: Partial<TuiDeps> = {}): Promise<number> {
  const stdin = deps.stdin ?? process.stdin;
  const stdout = deps.stdout ?? process.stdout;
  if (!stdin.isTTY) {
    (deps.stderr ?? process.stderr).write(
      'knock ui: needs an interactive terminal (stdin is not a TTY); use `knock HOST` in scripts\n',
    );
    return ExitCode.usage;
  }
  // Ink reads CI/CONTINUOUS_INTEGRATION once, at import, and then draws nothing until
  // exit. A person at a terminal (both ends TTYs) wants the live screen, so turn it off.
  if (stdout.isTTY) {
    for (const name of ['CI', 'CONTINUOUS_INTEGRATION'])
      if (name in process.env) process.env[name] = 'false';
  }
  const env = deps.env ?? process.env;
  // Ink and React load only here, so a plain `knock HOST` starts fast.
  const [{ render }, { default: App }, { ThemeContext }] = await Promise.all([
    import('ink'),
    import('./App.js'),
    import('./theme.js'),
  ]);
  // The real I/O functions load only when something was not injected.
  const shared = deps.store && deps.knocker ? undefined : await import('@knock/shared/node');
  const dep = <K extends Exclude<keyof KnockDeps, 'now'>>(name: K): KnockDeps[K] => {
    const fn = deps[name] ?? shared?.[name];
    if (fn === undefined) throw new Error(`knock ui: ${name} is not available`);
    return fn;
  };
  const store =
    deps.store ??
    (shared ?? (await import('@knock/shared/node'))).createProfileStore(
      deps.path ?? (shared ?? (await import('@knock/shared/node'))).profilesPath(env),
      { env },
    );
  const knocker =
    deps.knocker ??
    (shared ?? (await import('@knock/shared/node'))).createKnockService({
      resolveTargets: dep('resolveTargets'),
      sendKnocks: dep('sendKnocks'),
      verifyOpen: dep('verifyOpen'),
      takeOneTimeSequence: dep('takeOneTimeSequence'),
      now: deps.now ?? (shared ?? (await import('@knock/shared/node'))).clientClock(env),
    });
  const readText = deps.readText ?? ((path: string) => readFile(path, 'utf8'));
  // The platform's services file, else the built-in table (as the command line does).
  const { table: services } = await loadServices(
    servicesFile(process.platform, process.env),
    readText,
  );
  const servicePort = (name: string) => lookupService(services, name, 'tcp');
  const countOts = (path: string) =>
    readText(path).then(
      (text) => parseOtsFile(text).entries.length,
      () => undefined,
    );

  let code: number = ExitCode.ok;
  const alternate = stdout.isTTY === true;
  if (alternate) stdout.write(ALT_SCREEN_ON);
  try {
    const app = createElement(App, {
      store,
      knocker,
      countOts,
      onExit: (c: number) => (code = c),
      servicePort,
    });
    const instance = render(
      createElement(ThemeContext.Provider, { value: { color: colorWanted(env) } }, app),
      {
        stdin,
        stdout,
        // Ctrl+C is a key like q (the app exits through useApp, so the terminal is restored).
        exitOnCtrlC: false,
        // Nothing in the TUI logs through console; leave it alone.
        patchConsole: false,
      },
    );
    await instance.waitUntilExit();
  } finally {
    if (alternate) stdout.write(ALT_SCREEN_OFF);
  }
  return code;
}
