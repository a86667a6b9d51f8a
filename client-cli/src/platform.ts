/**
 * What differs between Linux, macOS and Windows for the client's own process handling,
 * as pure functions of the platform (node-deps.ts passes process.platform; tests pass
 * any). Paths of files are elsewhere: profiles in @knock/shared/node (profile-path.ts),
 * the services file in services.ts.
 */

/** The program to spawn for `command`: Windows' OpenSSH client is ssh.exe. */
export function programFor(command: string, platform: NodeJS.Platform): string {
  return platform === 'win32' && !/\.[A-Za-z0-9]+$/.test(command) ? `${command}.exe` : command;
}

export type SignalAction = 'ignore' | 'forward';

/**
 * While ssh runs in our terminal (`knock ssh`): the signals to catch and what to do.
 * The terminal's own keys (Ctrl-C, Ctrl-\, Ctrl-Break) reach ssh directly, so we only
 * ignore them; a signal sent to us alone is passed on to ssh. Windows has no SIGQUIT
 * and never delivers SIGTERM (Node only emulates SIGINT, SIGBREAK and SIGHUP there),
 * so only those are listened to.
 */
export function interactiveSignals(
  platform: NodeJS.Platform,
): ReadonlyArray<readonly [NodeJS.Signals, SignalAction]> {
  if (platform === 'win32')
    return [
      ['SIGINT', 'ignore'],
      ['SIGBREAK', 'ignore'],
      ['SIGHUP', 'forward'],
    ];
  return [
    ['SIGINT', 'ignore'],
    ['SIGQUIT', 'ignore'],
    ['SIGTERM', 'forward'],
    ['SIGHUP', 'forward'],
  ];
}
