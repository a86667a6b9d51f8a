import { formatIssue, KnockError, type Issue } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { formatSequence, type Knock } from './sequence.js';
import { ROTATING_PROFILE_KEYS, type ProfileRotating } from './rotating-profile.js';
import { rotatingProfileEntries } from './rotating-profile-lines.js';

// The dependency-free half of profiles. parseProfiles (toml-eslint-parser) is exported from
// @knock/shared/node, so that importing '@knock/shared' stays cheap for the client's start-up.

/**
 * A client profile (DESIGN.md "Profiles"): how to knock on one host. TOML:
 *
 *   [hosts."ssh.maths.fr"]
 *   sequence = "1228,1227"     # or one_time_sequences = "~/.config/knock/ssh.ots"
 *   port = 22
 *   family = "any"             # default "any"
 *   delay_ms = 0               # default 0
 *   open_for = 300             # what the server grants (Open_Timeout), in seconds
 *   close_sequence = "9000,8000"  # the knock of the server's Revoke door
 *   keep_open = true           # knock ssh / proxy re-knock while the session lives
 */
export interface Profile {
  /** The table name: the host name or address that is knocked. */
  host: string;
  /** `sequence`, in knockd's Sequence syntax. Exactly one of sequence / oneTimeSequences. */
  sequence?: Knock[];
  /** `one_time_sequences`: path of a one-time-sequence file (`~` expanded by the loader). */
  oneTimeSequences?: string;
  /** `port`: probed after knocking; what `knock ssh` / `knock proxy` connect to. */
  port?: number;
  /** `family`: "any" knocks every address the name has. Default "any". */
  family: 'any' | 'ipv4' | 'ipv6';
  /** `delay_ms` between knocks. Default 0. */
  delayMs: number;
  /** `verify_timeout_ms`: how long `--verify` waits for the port to open. */
  verifyTimeoutMs?: number;
  /** `open_for`: seconds the server grants (its Open_Timeout): shown and re-knocked, not enforced. */
  openFor?: number;
  /** `close_sequence`: the knock that revokes the grant (a `Revoke` door on the server). */
  closeSequence?: Knock[];
  /** `keep_open`: `knock ssh` / `knock proxy` keep the grant while the session lives. Default false. */
  keepOpen?: boolean;
  /** Rotating sequences (`secret_file`/`secret`, `door`, …): instead of `sequence`. */
  rotating?: ProfileRotating;
}

/** How long to wait for the port after the last knock when neither the profile nor --timeout says. */
export const DEFAULT_VERIFY_TIMEOUT_MS = 5000;

export const PROFILE_KEYS = [
  'sequence',
  'one_time_sequences',
  // rotating sequences, instead of sequence
  ...ROTATING_PROFILE_KEYS,
  'port',
  'family',
  'delay_ms',
  'verify_timeout_ms',
  'open_for',
  'close_sequence',
  'keep_open',
] as const;
export type ProfileKey = (typeof PROFILE_KEYS)[number];

/** The TOML table header of a host's profile: `[hosts."ssh.example.org"]`. */
export const profileTable = (host: string): string => `[hosts.${tomlString(host)}]`;

/** A TOML basic string (quoted and escaped). */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * The `key = value` lines of a profile, in PROFILE_KEYS order. Defaults the file does not
 * need (family "any", delay_ms 0) are left out: a new profile holds only what was set.
 */
export function profileEntries(p: Profile): [ProfileKey, string][] {
  const entries: [ProfileKey, string][] = [];
  if (p.sequence !== undefined) entries.push(['sequence', tomlString(formatSequence(p.sequence))]);
  if (p.oneTimeSequences !== undefined)
    entries.push(['one_time_sequences', tomlString(p.oneTimeSequences)]);
  if (p.rotating !== undefined) entries.push(...rotatingProfileEntries(p.rotating, tomlString));
  if (p.port !== undefined) entries.push(['port', String(p.port)]);
  if (p.family !== 'any') entries.push(['family', tomlString(p.family)]);
  if (p.delayMs !== 0) entries.push(['delay_ms', String(p.delayMs)]);
  if (p.verifyTimeoutMs !== undefined)
    entries.push(['verify_timeout_ms', String(p.verifyTimeoutMs)]);
  if (p.openFor !== undefined) entries.push(['open_for', String(p.openFor)]);
  if (p.closeSequence !== undefined)
    entries.push(['close_sequence', tomlString(formatSequence(p.closeSequence))]);
  if (p.keepOpen === true) entries.push(['keep_open', 'true']);
  return entries;
}

/** One profile as a TOML table: the header, then its keys (no defaults), each line ending in `newline`. */
export function profileTableText(p: Profile, newline = '\n'): string {
  return [profileTable(p.host), ...profileEntries(p).map(([k, v]) => `${k} = ${v}`)]
    .map((line) => `${line}${newline}`)
    .join('');
}

/** Writes profiles as TOML that parseProfiles reads back to the same profiles. */
export function serializeProfiles(profiles: readonly Profile[]): string {
  return profiles.map((p) => profileTableText(p)).join('\n');
}

/** Same settings (the host aside): what a writer compares to see whether a profile changed. */
export function sameProfile(a: Profile, b: Profile): boolean {
  const text = (p: Profile) => JSON.stringify(profileEntries(p));
  return a.host === b.host && text(a) === text(b);
}

/** The profile for `host`: exact name first, then ignoring case and a trailing dot (DNS). */
export function findProfile(profiles: readonly Profile[], host: string): Profile | undefined {
  const exact = profiles.find((p) => p.host === host);
  if (exact) return exact;
  const norm = (h: string) => h.toLowerCase().replace(/\.$/, '');
  return profiles.find((p) => norm(p.host) === norm(host));
}

/** A profile that is in the file but cannot be used; the others still can. */
export interface InvalidProfile {
  host: string;
  /** Where its table (or its first key) starts: 1-based. */
  line: number;
  /** Its errors, each with file:line:col (at least one). */
  issues: Issue[];
}

/** The error for knocking a profile that is in the file but has errors (ExitCode.config). */
export function invalidProfileError(
  file: { path: string; invalid?: readonly InvalidProfile[] },
  host: string,
): KnockError | undefined {
  const norm = (h: string) => h.toLowerCase().replace(/\.$/, '');
  const broken =
    file.invalid?.find((i) => i.host === host) ??
    file.invalid?.find((i) => norm(i.host) === norm(host));
  if (!broken) return undefined;
  const lines = broken.issues.map((issue) => {
    const plain: Issue = { ...issue };
    delete plain.hint;
    return `  ${formatIssue(plain)}`;
  });
  return new KnockError(
    'profile.invalid',
    `the profile for ${broken.host} in ${file.path} cannot be used:\n${lines.join('\n')}`,
    {
      exitCode: ExitCode.config,
      hint: broken.issues[0]?.hint ?? 'fix the profile (knock check-profiles lists every problem)',
    },
  );
}
