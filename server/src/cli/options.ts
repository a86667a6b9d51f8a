import { DEFAULT_CONFIG_FILE } from '@knock/shared';

/** What the daemon's command line asked for (knockd's flags plus ours). */
export interface ServerOptions {
  /** `-i`: interfaces, in order (a comma-separated list, or -i repeated). */
  interfaces?: string[];
  /** `-d`: run in the background. */
  daemon: boolean;
  /** `-c`: the config file. */
  config: string;
  /** `-D`: debug lines on stdout. */
  debug: boolean;
  /** `-v`: the log texts on stdout. */
  verbose: boolean;
  /** `-l`: reverse DNS names in log lines. */
  lookup: boolean;
  /** `-p`: pidfile (the config's PidFile wins, as in knockd). */
  pidfile?: string;
  /** `-g`: log file (the config's LogFile wins, as in knockd). */
  logfile?: string;
  /** `-4`: ignore IPv6. */
  onlyIpv4: boolean;
  /** `--log-format`: knockd's text lines, or one JSON object per line. */
  logFormat: 'text' | 'json';
  /** `--max-attempts`: cap on knock attempts tracked at once (oldest evicted first). */
  maxAttempts: number;
  /** `--state-dir`: rotating doors' used sequences (default /var/lib/knock-server). */
  stateDir?: string;
  /** `--capture-buffer`: the kernel's capture ring per interface, in MiB (default 8). */
  captureBuffer?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 1_000_000;
/** ~37 bytes an attempt: 100 million is 3.7 GB, more than a knock host should give. */
export const MAX_MAX_ATTEMPTS = 100_000_000;
/**
 * `--capture-buffer` in MiB. 8 by default (capture/cap-source.ts): what absorbs a flood's
 * first ~100 ms and a full garbage collection. 2 is libpcap's and knockd's size: 6 MB
 * less resident memory, and drops sooner under a flood (README "Memory").
 */
export const MIN_CAPTURE_BUFFER_MIB = 2;
export const MAX_CAPTURE_BUFFER_MIB = 256;

export const defaultServerOptions = (): ServerOptions => ({
  daemon: false,
  config: DEFAULT_CONFIG_FILE,
  debug: false,
  verbose: false,
  lookup: false,
  onlyIpv4: false,
  logFormat: 'text',
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
});
