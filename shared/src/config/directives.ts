// The directive tables of knockd.conf and the limits knockd reads them with: what
// parse.ts, the section modules, gen-man.mjs and the man-page test share.
import { CLUSTER_DIRECTIVES } from './cluster-options.js';
import { ROTATING_DIRECTIVES } from './rotating-door.js';

/** The directives of `[options]`, canonical spelling (knockd's man page), extensions last. */
export const OPTIONS_DIRECTIVES = [
  'UseSyslog',
  'LogFile',
  'PidFile',
  'Interface',
  'Firewall',
  'Trusted_File',
  'Control_Socket',
  'Metrics_Listen',
  ...CLUSTER_DIRECTIVES,
] as const;

/** The directives of a door, canonical spelling, aliases included, extensions last. */
export const DOOR_DIRECTIVES = [
  'Sequence',
  'One_Time_Sequences',
  'Seq_Timeout',
  'Timeout',
  'TCPFlags',
  'Start_Command',
  'Command',
  'Start_Command_6',
  'Command_6',
  'Cmd_Timeout',
  'Stop_Command',
  'Stop_Command_6',
  'Target',
  'Open_Ports',
  'Open_Timeout',
  'Ban',
  'Revoke',
  ...ROTATING_DIRECTIVES,
] as const;

/** Directives knockd 0.8 rejects: a config that uses one needs knock-server. */
export const EXTENSION_DIRECTIVES = [
  'Firewall',
  'Trusted_File',
  'Control_Socket',
  'Metrics_Listen',
  'Open_Ports',
  'Open_Timeout',
  'Ban',
  'Revoke',
  ...CLUSTER_DIRECTIVES,
  ...ROTATING_DIRECTIVES,
] as const;

/** Values run by /bin/sh, where `# …` is the shell's comment: not an inline comment of the file. */
export const COMMAND_DIRECTIVES: ReadonlySet<string> = new Set([
  'Start_Command',
  'Command',
  'Start_Command_6',
  'Command_6',
  'Stop_Command',
  'Stop_Command_6',
]);

/** knockd reads lines with fgets(…, PATH_MAX): a longer line is cut in two. */
export const MAX_LINE_BYTES = 4095;
/** knockd keeps 127 bytes of a door name. */
export const MAX_DOOR_NAME_BYTES = 127;
/** knockd expands commands into a PATH_MAX buffer. */
export const MAX_COMMAND_BYTES = 4096;
/** The longest text inet_ntop gives for an address (IPv6, 39 characters). */
export const MAX_ADDRESS_TEXT = 39;
/** knockd stores timeouts from atoi(), an int. */
export const MAX_SECONDS = 2_147_483_647;
/** One year: the longest Open_Timeout or Ban the built-in firewall accepts. */
export const MAX_FIREWALL_SECONDS = 31_536_000;

// knockd upper-cases with toupper() in the C locale: ASCII only ('ſ'.toUpperCase() is 'S').
export const asciiUpper = (s: string): string => s.replace(/[a-z]/g, (c) => c.toUpperCase());

export function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** The canonical spelling of an upper-cased directive name, if `list` has it. */
export const canonicalKey = (upper: string, list: readonly string[]): string | undefined =>
  list.find((k) => asciiUpper(k) === upper);

/** The directive names in upper case, for "belongs in …" hints. */
export const OPTIONS_UPPER: readonly string[] = OPTIONS_DIRECTIVES.map(asciiUpper);
export const DOOR_UPPER: readonly string[] = DOOR_DIRECTIVES.map(asciiUpper);
