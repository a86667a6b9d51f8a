/**
 * Knocking a rotating profile: the sequence of the current step, derived per address
 * family (a dual-stack host gets its IPv4 sequence on its IPv4 addresses and its IPv6
 * sequence on the others), from the profile's secret. One function for the command line,
 * the TUI and the tray; the clock is injected.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { KnockError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { deriveSequence, parseSecret, ROTATING_DEFAULTS, stepAt } from '../rotating.js';
import { profileSpec, type ProfileRotating } from '../rotating-profile.js';
import type { Knock } from '../sequence.js';
import { readSecretFile } from './rotating-secret.js';

export { CLOCK_OFFSET_ENV, clientClock } from './client-clock.js';

/**
 * The profile's secret: inline, or from its file (refused when others can read it). A
 * relative secret_file is read from the folder of `relativeTo` (the profile file), as a
 * relative one_time_sequences is.
 */
export async function profileSecret(
  host: string,
  rotating: ProfileRotating,
  relativeTo?: string,
): Promise<Uint8Array> {
  if (rotating.secret !== undefined) {
    const parsed = parseSecret(rotating.secret);
    if (parsed.secret) return parsed.secret;
    throw new KnockError('profile.secret', `the profile for "${host}": secret: ${parsed.problem}`, {
      exitCode: ExitCode.config,
      hint: 'copy the secret again from knock-server secret new, or import its knock:// URI',
    });
  }
  const path = rotating.secretFile ?? '';
  const file =
    relativeTo === undefined || path === '' || isAbsolute(path)
      ? path
      : resolve(dirname(relativeTo), path);
  const read = await readSecretFile(file);
  if (read.secret) return read.secret;
  throw new KnockError(
    'profile.secretFile',
    `the profile for "${host}": the secret file ${path}${file === path ? '' : ` (looked at ${file})`} ${read.problem ?? ''}`,
    { exitCode: ExitCode.config, ...(read.hint !== undefined ? { hint: read.hint } : {}) },
  );
}

export interface RotatingKnocks {
  /** The step knocked (of the client's clock). */
  step: number;
  /** The client's clock when the sequence was chosen (ms). */
  now: number;
  /** Addresses grouped by family, each with its own sequence. */
  groups: { family: 4 | 6; addresses: string[]; knocks: Knock[] }[];
}

/** The sequences to knock now on `addresses`. */
export async function rotatingKnocks(
  host: string,
  rotating: ProfileRotating,
  addresses: readonly string[],
  now: number,
  /** The profile file: a relative secret_file is read from its folder. */
  relativeTo?: string,
): Promise<RotatingKnocks> {
  const spec = profileSpec(rotating, await profileSecret(host, rotating, relativeTo));
  const step = stepAt(now, rotating.step);
  const groups: RotatingKnocks['groups'] = [];
  for (const family of [4, 6] as const) {
    // Resolved addresses are literals: only IPv6 has colons (node's isIPv6 compiles a
    // large regular expression on first use: 4 ms of a cold start).
    const list = addresses.filter((a) => (family === 6) === a.includes(':'));
    if (list.length > 0)
      groups.push({ family, addresses: list, knocks: deriveSequence(spec, family, step) });
  }
  return { step, now, groups };
}

/**
 * What to tell the user when a rotating knock did not open the port: the usual cause is
 * a clock more than the server's skew (by default one step) away from the server's.
 */
export function clockHint(rotating: ProfileRotating, knocked: RotatingKnocks): string {
  const window = rotating.step * ROTATING_DEFAULTS.skew;
  const clock = new Date(knocked.now)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  return (
    `this is a rotating door (step ${knocked.step}, ${rotating.step} s per step): it opens only if ` +
    `this computer's clock (${clock}) is within about ${window} s of the server's ` +
    `(by default); check both clocks (timedatectl; an NTP client), then the secret, door and ports of the profile`
  );
}
