import { formatSequence, type Knock } from './sequence.js';
import type { ProfileRotating } from './rotating-profile.js';
import { rotatingProfileLines } from './rotating-profile-lines.js';

// The dependency-free half of profiles. parseProfiles (smol-toml + valibot) is exported from
// @knock/shared/node, so that importing '@knock/shared' stays cheap for the client's start-up.

/**
 * A client profile (DESIGN.md "Profiles"): how to knock on one host. TOML:
 *
 *   [hosts."ssh.maths.fr"]
 *   sequence = "1228,1227"     # or one_time_sequences = "~/.config/knock/ssh.ots"
 *   port = 22
 *   family = "any"
 *   delay_ms = 0
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
  /** Rotating sequences (`secret_file`/`secret`, `door`, …): instead of `sequence`. */
  rotating?: ProfileRotating;
}

export const PROFILE_KEYS = [
  'sequence',
  'one_time_sequences',
  'port',
  'family',
  'delay_ms',
  'verify_timeout_ms',
  // rotating sequences (ROTATING_PROFILE_KEYS)
  'secret_file',
  'secret',
  'door',
  'length',
  'step',
  'ports',
  'protocols',
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

/** Writes profiles as TOML that parseProfiles reads back to the same profiles. */
export function serializeProfiles(profiles: readonly Profile[]): string {
  return profiles
    .map((p) => {
      const lines = [profileTable(p.host)];
      if (p.sequence !== undefined)
        lines.push(`sequence = ${tomlString(formatSequence(p.sequence))}`);
      if (p.oneTimeSequences !== undefined)
        lines.push(`one_time_sequences = ${tomlString(p.oneTimeSequences)}`);
      if (p.rotating !== undefined) lines.push(...rotatingProfileLines(p.rotating, tomlString));
      if (p.port !== undefined) lines.push(`port = ${p.port}`);
      lines.push(`family = ${tomlString(p.family)}`);
      lines.push(`delay_ms = ${p.delayMs}`);
      if (p.verifyTimeoutMs !== undefined) lines.push(`verify_timeout_ms = ${p.verifyTimeoutMs}`);
      return `${lines.join('\n')}\n`;
    })
    .join('\n');
}

/** The profile for `host`: exact name first, then ignoring case and a trailing dot (DNS). */
export function findProfile(profiles: readonly Profile[], host: string): Profile | undefined {
  const exact = profiles.find((p) => p.host === host);
  if (exact) return exact;
  const norm = (h: string) => h.toLowerCase().replace(/\.$/, '');
  return profiles.find((p) => norm(p.host) === norm(host));
}
