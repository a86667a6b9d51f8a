import type { Knock, Protocol } from '../sequence.js';
import type { ClusterSettings } from './cluster-options.js';
import type { RotatingDoor } from './rotating-door.js';

/** knockd's six TCP flags, in the order knockd writes its BPF clauses. */
export const TCP_FLAGS = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg'] as const;
export type TcpFlag = (typeof TCP_FLAGS)[number];

/** Bit values of the flags in the TCP header's flags byte. */
export const TCP_FLAG_BITS: Readonly<Record<TcpFlag, number>> = {
  fin: 0x01,
  syn: 0x02,
  rst: 0x04,
  psh: 0x08,
  ack: 0x10,
  urg: 0x20,
};

/**
 * A door's TCPFlags: `true` the flag must be set, `false` it must be clear (`!syn`),
 * absent: don't care. Several TCPFlags lines accumulate; the last word on a flag wins.
 */
export type TcpFlagRule = Partial<Record<TcpFlag, boolean>>;

export type FirewallKind = 'nftables' | 'iptables' | 'none';

/** A port a door opens by itself (extension `Open_Ports = 22/tcp,53/udp`). */
export interface PortSpec {
  port: number;
  protocol: Protocol;
}

export interface Door {
  /** The section name, as written between the brackets (knockd keeps it untrimmed). */
  name: string;
  /** Line of the `[name]` header (1-based). */
  line: number;
  /** The sequence; empty when the door uses `oneTimeSequences` (the file holds it). */
  sequence: Knock[];
  /** `One_Time_Sequences = PATH`. */
  oneTimeSequences?: string;
  /** `Seq_Timeout` (alias `Timeout`), seconds from the first knock. Default 25. */
  seqTimeout: number;
  tcpFlags: TcpFlagRule;
  /** `Start_Command` (alias `Command`). */
  startCommand?: string;
  /**
   * `Start_Command_6` (alias `Command_6`). Absent: IPv6 knockers get `startCommand`.
   * Present but empty: nothing runs for IPv6 knockers (knockd's rule).
   */
  startCommand6?: string;
  stopCommand?: string;
  /** Like `startCommand6`: absent falls back to `stopCommand`. */
  stopCommand6?: string;
  /** `Cmd_Timeout`, seconds from the start command to the stop command. Default 10. */
  cmdTimeout: number;
  /** `Target = ADDR`: match knocks to this address instead of the interface's. */
  target?: string;
  /** Extension: ports the built-in firewall opens for the knocker. */
  openPorts?: PortSpec[];
  /** Extension: seconds an `Open_Ports` grant lasts (default 300, the seed deployment's). */
  openTimeout?: number;
  /** Extension: ban the knocker for this many seconds (0 = until flushed). */
  ban?: number;
  /** Extension `Revoke = DOOR,…`: opening this door takes back what those doors gave the knocker. */
  revoke?: string[];
  /** Extension: a sequence derived from a shared secret and the clock (Sequence_Secret…). */
  rotating?: RotatingDoor;
}

/** `[options]`; the cluster directives' fields are in ClusterSettings (cluster-options.ts). */
export interface Options extends ClusterSettings {
  /** `UseSyslog` (a bare word). */
  useSyslog: boolean;
  logFile?: string;
  pidFile?: string;
  /** `Interface`: one name, or several separated by commas (extension). */
  interface?: string;
  /** Extension: which built-in firewall backend grants and bans use. */
  firewall?: FirewallKind;
  /** Extension: hosts and networks always let in (the seed's knockd.trusted format). */
  trustedFile?: string;
  /** Extension: the control socket (`knock-server status`), or `none`. */
  controlSocket?: string;
  /** Extension: where Prometheus scrapes the metrics (HOST:PORT or a socket path). */
  metricsListen?: string;
}

export interface KnockdConfig {
  options: Options;
  doors: Door[];
}

export const DEFAULT_SEQ_TIMEOUT = 25;
export const DEFAULT_CMD_TIMEOUT = 10;
export const DEFAULT_OPEN_TIMEOUT = 300;
export const DEFAULT_PID_FILE = '/var/run/knockd.pid';
export const DEFAULT_CONFIG_FILE = '/etc/knockd.conf';

/** The start command for a knocker of this family, with knockd's `_6` fallback rule. Empty means none. */
export function startCommandFor(door: Door, family: 4 | 6): string | undefined {
  const command =
    family === 6 && door.startCommand6 !== undefined ? door.startCommand6 : door.startCommand;
  return command === undefined || command === '' ? undefined : command;
}

/** The stop command for this family; knockd never runs a stop command without a start command. */
export function stopCommandFor(door: Door, family: 4 | 6): string | undefined {
  if (startCommandFor(door, family) === undefined) return undefined;
  const command =
    family === 6 && door.stopCommand6 !== undefined ? door.stopCommand6 : door.stopCommand;
  return command === undefined || command === '' ? undefined : command;
}
