import { ExitCode, KnockError, formatIssue, type Knock } from '@knock/shared/core';
import type { AddressFamily, KnockProgress, VerifyResult } from '@knock/shared/node';
import { formatEndpoint } from './endpoint.js';
import type { CliDeps, Out, Profile, ProfileFile } from './deps.js';
import { seconds } from './report.js';

export const DEFAULT_VERIFY_TIMEOUT_MS = 5000;

/** Loads the profile file and picks HOST's profile (undefined when there is none). */
export async function lookupProfile(
  deps: CliDeps,
  host: string,
  configPath: string | undefined,
  warn: Out | undefined = deps.stderr,
): Promise<{ file: ProfileFile; profile: Profile | undefined }> {
  const file = await deps.loadProfiles(
    configPath === undefined ? { env: deps.env } : { path: configPath, env: deps.env },
  );
  for (const issue of file.warnings ?? []) warn?.write(`knock: ${formatIssue(issue)}\n`);
  return { file, profile: deps.findProfile(file.profiles, host) };
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

export interface KnockRequest {
  host: string;
  /** Knocks from the command line; undefined: the profile's sequence or one-time file. */
  knocks?: Knock[];
  profile?: Profile;
  /** -u: every knock UDP, also the profile's. */
  allUdp?: boolean;
  /** -4/-6, or what ssh will use; undefined: the profile's, else any. */
  family?: AddressFamily;
  /** -d; undefined: the profile's, else 0. */
  delayMs?: number;
  onEvent?: (event: KnockProgress) => void;
}

export interface KnockOutcome {
  addresses: string[];
  knocks: Knock[];
  /** Set when a one-time sequence was used: how many are left in the file. */
  oneTime?: { file: string; remaining: number };
  /** Rotating profile: what to say if the port stays closed (the clocks, most often). */
  hint?: string;
}

/**
 * Resolves the host once, then sends the knocks (from the command line, the profile's
 * sequence, or the next sequence of its one-time file, marked used only once sent).
 */
export async function knock(deps: CliDeps, request: KnockRequest): Promise<KnockOutcome> {
  const { profile } = request;
  const family = request.family ?? profile?.family ?? 'any';
  const delayMs = request.delayMs ?? profile?.delayMs ?? 0;
  const adjust = (knocks: readonly Knock[]): Knock[] =>
    request.allUdp ? knocks.map((k) => ({ port: k.port, protocol: 'udp' as const })) : [...knocks];
  const addresses = await deps.resolveTargets(request.host, family);
  const send = (knocks: Knock[]) =>
    deps.sendKnocks({
      addresses,
      knocks,
      delayMs,
      ...(request.onEvent ? { onEvent: request.onEvent } : {}),
    });

  if (request.knocks !== undefined) {
    const knocks = adjust(request.knocks);
    await send(knocks);
    return { addresses, knocks };
  }
  if (request.knocks === undefined && profile?.rotating !== undefined) {
    // Loaded only for rotating profiles: derivation, secret file, the clock.
    const shared = await import('@knock/shared/node');
    const now = (deps.now ?? shared.clientClock(deps.env))();
    const plan = await shared.rotatingKnocks(request.host, profile.rotating, addresses, now);
    let knocks: Knock[] = [];
    // The server expects the derived protocols: -u does not apply.
    for (const group of plan.groups) {
      knocks = group.knocks;
      await deps.sendKnocks({
        addresses: group.addresses,
        knocks,
        delayMs,
        ...(request.onEvent ? { onEvent: request.onEvent } : {}),
      });
    }
    return { addresses, knocks, hint: shared.clockHint(profile.rotating, plan) };
  }
  if (profile?.sequence !== undefined && profile.sequence.length > 0) {
    const knocks = adjust(profile.sequence);
    await send(knocks);
    return { addresses, knocks };
  }
  if (profile?.oneTimeSequences !== undefined) {
    let sent: Knock[] = [];
    const { remaining } = await deps.takeOneTimeSequence(profile.oneTimeSequences, async (next) => {
      sent = adjust(next);
      await send(sent);
    });
    return { addresses, knocks: sent, oneTime: { file: profile.oneTimeSequences, remaining } };
  }
  throw new KnockError(
    'knock.profile.noSequence',
    `the profile for "${request.host}" has neither sequence nor one_time_sequences`,
    { exitCode: ExitCode.config, hint: 'add sequence = "PORT,PORT" to it' },
  );
}

/** The error for a port that stayed closed after knocking. */
export function closedError(
  host: string,
  port: number,
  addresses: readonly string[],
  result: Exclude<VerifyResult, { state: 'open' }>,
  timeoutMs: number,
  hint?: string,
): KnockError {
  const where =
    addresses.length === 1
      ? formatEndpoint(addresses[0] ?? host, port)
      : `port ${port} of ${host} (${addresses.join(', ')})`;
  const why = result.state === 'closed' ? 'connection refused' : 'no answer';
  return new KnockError(
    'knock.closed',
    `knocked ${host}, but ${where} is still closed after ${seconds(timeoutMs)} (${why})`,
    {
      exitCode: ExitCode.closed,
      hint:
        hint ?? 'check the sequence (and the one-time file), or wait longer with --timeout SECONDS',
    },
  );
}
