import {
  DEFAULT_VERIFY_TIMEOUT_MS,
  ExitCode,
  KnockError,
  formatEndpoint,
  formatIssue,
  formatSeconds,
  invalidProfileError,
} from '@knock/shared/core';
import type { KnockRequest, KnockSent, LockHolder, VerifyResult } from '@knock/shared/node';
import type { CliDeps, Out, Profile, ProfileFile } from './deps.js';

/** How `--timeout` describes its default, in every command that has it. */
export const TIMEOUT_DEFAULT_HELP = `default: the profile's verify_timeout_ms, else ${DEFAULT_VERIFY_TIMEOUT_MS / 1000}`;

/**
 * Reads the profile file: `configPath` (from -c/--config), else $KNOCK_CONFIG, else the
 * default. A file named by -c or $KNOCK_CONFIG that does not exist is an error
 * (ExitCode.config) naming it; a missing default file is just "no profiles".
 */
export async function loadProfileFile(
  deps: CliDeps,
  configPath: string | undefined,
  warn: Out | undefined = deps.stderr,
): Promise<ProfileFile> {
  const file = await deps.loadProfiles(
    configPath === undefined ? { env: deps.env } : { path: configPath, env: deps.env },
  );
  for (const issue of file.warnings ?? []) warn?.write(`knock: ${formatIssue(issue)}\n`);
  if (!file.exists && (configPath !== undefined || deps.env.KNOCK_CONFIG)) {
    const via = configPath !== undefined ? '-c/--config' : '$KNOCK_CONFIG';
    throw new KnockError(
      'knock.profile.missing',
      `the profile file ${file.path} (named by ${via}) does not exist`,
      {
        exitCode: ExitCode.config,
        hint:
          configPath !== undefined
            ? 'check the file name; leave out -c to use the usual profile file (see knock list)'
            : 'check $KNOCK_CONFIG, or unset it to use ~/.config/knock/config.toml',
      },
    );
  }
  return file;
}

/** Loads the profile file and picks HOST's profile (undefined when there is none). */
export async function lookupProfile(
  deps: CliDeps,
  host: string,
  configPath: string | undefined,
  warn: Out | undefined = deps.stderr,
): Promise<{ file: ProfileFile; profile: Profile | undefined }> {
  const file = await loadProfileFile(deps, configPath, warn);
  const profile = deps.findProfile(file.profiles, host);
  // A profile with errors is not "no profile": say what is wrong with it (ExitCode.config).
  const broken = profile ? undefined : invalidProfileError(file, host);
  if (broken) throw broken;
  return { file, profile };
}

export function noProfileError(host: string, file: ProfileFile, alternative: string): KnockError {
  const where = file.exists
    ? `in ${file.path}`
    : `(${file.path} does not exist; profiles are read from $KNOCK_CONFIG, else $XDG_CONFIG_HOME/knock/config.toml)`;
  return new KnockError('knock.noProfile', `no profile for "${host}" ${where}`, {
    exitCode: ExitCode.noProfile,
    hint: `add [hosts."${host}"] with sequence = "PORT,PORT" and port = 22 to ${file.path}, or ${alternative}`,
  });
}

/** Says, once the one-time file's lock has been held by someone else for a second, who holds it. */
export const lockWaitNotice =
  (out: Out | undefined, file: string) =>
  (holder: LockHolder): void => {
    out?.write(
      `knock: waiting for the lock on ${file} held by ${holder.pid === undefined ? 'another process' : `process ${holder.pid}`} (${holder.lockPath})\n`,
    );
  };

/**
 * Knocks through the shared knock flow (@knock/shared's knockHost: the same one the TUI
 * and the tray use), with the CLI's effects. Loaded on demand, with the sockets. A
 * rotating profile knocks the sequence of this computer's clock ($KNOCK_CLOCK_OFFSET
 * moves it; tests inject deps.now).
 */
export async function knock(
  deps: CliDeps,
  request: KnockRequest & { lockNotice?: Out; serialize?: boolean },
): Promise<KnockSent> {
  const { knockHost, clientClock } = await import('@knock/shared/net');
  const { lockNotice, serialize, ...rest } = request;
  const ots = rest.profile?.oneTimeSequences;
  const knockDeps: Parameters<typeof knockHost>[0] = {
    resolveTargets: (host, family) => deps.resolveTargets(host, family),
    sendKnocks: (options) => deps.sendKnocks(options),
    takeOneTimeSequence: (path, use, options) => deps.takeOneTimeSequence(path, use, options),
    now: deps.now ?? clientClock(deps.env),
  };
  const send = () =>
    knockHost(knockDeps, {
      ...rest,
      ...(lockNotice && ots !== undefined ? { onLockWait: lockWaitNotice(lockNotice, ots) } : {}),
    });
  // Sessions (ssh, proxy, their re-knocks, close) knock one host from several processes.
  return serialize && deps.withKnockLock ? deps.withKnockLock(rest.host, send) : send();
}

/** The error for a port that stayed closed after knocking. */
export function closedError(
  host: string,
  port: number,
  addresses: readonly string[],
  result: Exclude<VerifyResult, { state: 'open' }>,
  timeoutMs: number,
  /** Said instead of the usual hint (a rotating profile: the clocks). */
  hint?: string,
): KnockError {
  const where =
    addresses.length === 1
      ? formatEndpoint(addresses[0] ?? host, port)
      : `port ${port} of ${host} (${addresses.join(', ')})`;
  const why = result.state === 'closed' ? 'connection refused' : 'no answer';
  return new KnockError(
    'knock.closed',
    `knocked ${host}, but ${where} is still closed after ${formatSeconds(timeoutMs)} (${why})`,
    {
      exitCode: ExitCode.closed,
      hint:
        hint ?? 'check the sequence (and the one-time file), or wait longer with --timeout SECONDS',
    },
  );
}
