import { ExitCode, type Profile } from '@knock/shared';
import type { KnockPorts, KnockService, ProfileStore } from '@knock/shared/node';
import { createElement } from 'react';

/**
 * Everything the TUI touches, injectable. Left out, each comes from
 * @knock/shared/node and process.*; `store`/`knocker` replace the lower-level
 * functions wholesale (tests use that).
 */
export interface TuiDeps extends KnockPorts {
  loadProfiles(options: {
    path?: string;
    env?: NodeJS.ProcessEnv;
  }): Promise<{ path: string; profiles: Profile[]; exists: boolean }>;
  saveProfiles(path: string, profiles: Profile[]): Promise<void>;
  /** $KNOCK_CONFIG, else the XDG path: the file the CLI reads. */
  profilesPath(env: NodeJS.ProcessEnv): string;
  env: NodeJS.ProcessEnv;
  /** The profile file; default: profilesPath(env). */
  path?: string;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: { write(text: string): unknown };
  store: ProfileStore;
  knocker: KnockService;
}

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
  // Ink and React load only here, so a plain `knock HOST` starts fast.
  const [{ render }, { default: App }] = await Promise.all([import('ink'), import('./App.js')]);
  const env = deps.env ?? process.env;
  // The real I/O functions load only when something was not injected.
  const shared = deps.store && deps.knocker ? undefined : await import('@knock/shared/node');
  const port = <K extends keyof SharedPorts>(name: K): SharedPorts[K] => {
    const fn = deps[name] ?? shared?.[name];
    if (fn === undefined) throw new Error(`knock ui: ${name} is not available`);
    return fn;
  };
  let store = deps.store;
  if (!store) {
    const path = deps.path ?? port('profilesPath')(env);
    store = {
      path,
      load: () => port('loadProfiles')({ path, env }),
      save: (profiles) => port('saveProfiles')(path, profiles),
    };
  }
  const knocker =
    deps.knocker ??
    (shared ?? (await import('@knock/shared/node'))).createKnockService({
      resolveTargets: port('resolveTargets'),
      sendKnocks: port('sendKnocks'),
      verifyOpen: port('verifyOpen'),
      takeOneTimeSequence: port('takeOneTimeSequence'),
      now: deps.now ?? (shared ?? (await import('@knock/shared/node'))).clientClock(env),
    });
  const instance = render(createElement(App, { store, knocker }), {
    stdin,
    stdout,
    // Ctrl+C is a key like q (the app exits through useApp, so the terminal is restored).
    exitOnCtrlC: false,
    // Nothing in the TUI logs through console; leave it alone.
    patchConsole: false,
  });
  await instance.waitUntilExit();
  return ExitCode.ok;
}

type SharedPorts = Omit<KnockPorts, 'now'> &
  Pick<TuiDeps, 'loadProfiles' | 'saveProfiles' | 'profilesPath'>;
