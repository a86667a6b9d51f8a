/**
 * The one exit-code table for every knock binary. Scripts rely on these numbers;
 * never reuse or renumber one, only add.
 */
export const ExitCode = {
  /** Success: knocked (and, with --verify, the port is open); config valid; daemon stopped cleanly. */
  ok: 0,
  /** Generic failure, and `knock-server check` finding problems. */
  failure: 1,
  /** Bad command line: unknown flag, missing or malformed argument. */
  usage: 2,
  /** A config file (knockd.conf, profiles, trusted list) is invalid or unreadable. */
  config: 3,
  /** `knock HOST` without ports, and no profile for HOST. */
  noProfile: 4,
  /** A host name does not resolve. */
  resolve: 5,
  /** Sending failed: no route, network unreachable, permission denied by the local firewall. */
  network: 6,
  /** The knock was sent but the verified port stayed closed. */
  closed: 7,
  /** A one-time-sequence file has no unused sequence left. */
  otsExhausted: 8,
  /** A one-time-sequence file is missing, unreadable, malformed or locked for too long. */
  otsFile: 9,
  /** The firewall backend (nft, iptables) is missing or refused a change. */
  firewall: 10,
  /** Packet capture failed: no such interface, interface down, libpcap error. */
  capture: 11,
  /** Another knock-server already runs with this pidfile. */
  alreadyRunning: 12,
  /** The operation needs root (or CAP_NET_RAW / CAP_NET_ADMIN). */
  permission: 13,
  /** A program we ran (ssh) failed to start. */
  exec: 14,
  /** A bug in knock itself: please report it. */
  internal: 70,
} as const;

export type ExitCodeName = keyof typeof ExitCode;
export type ExitCodeValue = (typeof ExitCode)[ExitCodeName];

/** One line per code, for `--help` texts and the README. */
export const exitCodeDescriptions: Readonly<Record<ExitCodeName, string>> = {
  ok: 'success',
  failure: 'failure (check: problems found)',
  usage: 'bad command line',
  config: 'invalid or unreadable config, profile or trusted file',
  noProfile: 'no profile for that host',
  resolve: 'host name does not resolve',
  network: 'could not send (no route, unreachable)',
  closed: 'knocked, but the port stayed closed',
  otsExhausted: 'one-time-sequence file used up',
  otsFile: 'one-time-sequence file missing, unreadable, malformed or locked',
  firewall: 'firewall backend missing or failed',
  capture: 'packet capture failed (interface missing or down)',
  alreadyRunning: 'another knock-server runs with this pidfile',
  permission: 'needs root (CAP_NET_RAW / CAP_NET_ADMIN)',
  exec: 'could not run a program (ssh)',
  internal: 'internal error (a bug: please report it)',
};
