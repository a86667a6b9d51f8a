/**
 * The daemon's ActionsDeps over the real pieces: door commands through DoorActions
 * and the long-lived command runner, built-in grants and bans (Open_Ports, Ban)
 * through the firewall backend. Everything here logs through the daemon's Logger.
 */
import {
  DEFAULT_OPEN_TIMEOUT,
  ExitCode,
  KnockError,
  formatIssue,
  hasErrors,
  type Door,
  type Issue,
  type KnockdConfig,
  type PortSpec,
} from '@knock/shared';
import type { CommandRunner } from '../actions/command-runner.js';
import {
  DoorActions,
  type ActionLogLevel,
  type ActionTimers,
  type PendingStop,
} from '../actions/door-actions.js';
import {
  uniquePorts,
  type Firewall,
  type FirewallKind,
  type FirewallSpec,
} from '../firewall/index.js';
import type { DaemonStats } from '../metrics/stats.js';
import type { Logger, LogEvent } from './log.js';
import type { ActionsDeps } from './deps.js';
import { revokeFor } from './revoke.js';

export interface DaemonActionsDeps {
  runner: CommandRunner;
  log: Logger;
  /** Builds the backend (createFirewall); not called when no door needs one. */
  firewall?: (kind: FirewallKind) => Firewall;
  /** Which backend when the config has no `Firewall =` (detectFirewall). */
  detectFirewall?: () => Promise<FirewallKind>;
  /** Trusted_File → addresses (loadTrusted). */
  loadTrusted?: (path: string) => Promise<{ addresses: string[]; issues: Issue[] }>;
  timers?: ActionTimers;
  /** Commands, grants and bans are counted there (status, metrics). */
  stats?: DaemonStats;
}

const eventOf = (line: string): LogEvent =>
  line.includes(': command timeout')
    ? 'commandTimeout'
    : line.includes(': running command: ')
      ? 'command'
      : 'commandFailed';

const showPorts = (ports: readonly PortSpec[]) =>
  ports.map((p) => `${p.port}/${p.protocol}`).join(',');

/** Whether any door asks for the built-in firewall. */
export const needsFirewall = (config: KnockdConfig): boolean =>
  config.doors.some((d) => (d.openPorts?.length ?? 0) > 0 || d.ban !== undefined) ||
  config.options.trustedFile !== undefined ||
  // A cluster node applies the others' grants and bans even if its own doors only run commands.
  config.options.cluster !== undefined;

export class DaemonActions implements ActionsDeps {
  readonly #deps: DaemonActionsDeps;
  readonly #doors: DoorActions;
  #firewall: Firewall | undefined;
  /** The trusted list last set up (kept when a reload finds the file broken). */
  #trusted: string[] | undefined;
  /** The config running now (Revoke looks the named doors up in it). */
  #config: KnockdConfig | undefined;

  constructor(deps: DaemonActionsDeps) {
    this.#deps = deps;
    const log = deps.log;
    this.#doors = new DoorActions({
      runner: deps.runner,
      log: (line: string, level: ActionLogLevel = 'info') => {
        if (level === 'debug') log.debug(line);
        else if (level === 'error') log.error(eventOf(line), line);
        else log.info(eventOf(line), line);
      },
      ...(deps.timers ? { timers: deps.timers } : {}),
      ...(deps.stats ? { stats: deps.stats } : {}),
    });
  }

  /**
   * At start: sets the firewall up when the config needs one, or throws (ExitCode.firewall;
   * ExitCode.config for an unreadable trusted file). A daemon that started anyway would log
   * OPEN SESAME while the protected ports stay open to everyone, or closed to everyone.
   */
  async start(config: KnockdConfig): Promise<void> {
    this.#config = config;
    try {
      await this.#setup(config);
    } catch (error) {
      const message = (error as Error).message;
      this.#deps.log.error('error', `firewall setup failed: ${message}`);
      const known = error instanceof KnockError ? error : undefined;
      throw new KnockError(
        known?.code ?? 'server.firewallSetup',
        `the firewall could not be set up: ${message}: knock-server did not start`,
        {
          // An unreadable trusted file is a config problem; everything else is the backend's.
          exitCode: known?.exitCode === ExitCode.config ? ExitCode.config : ExitCode.firewall,
          hint:
            known?.hint ??
            'knock-server fw setup -c CONFIG shows the same error; Firewall = none runs door commands only',
          cause: error,
        },
      );
    }
  }

  /**
   * After a reload: the firewall follows the new config. Never throws: a failure is
   * logged and the rules set up before stay as they were (nft applies all or nothing).
   */
  async reconfigure(config: KnockdConfig): Promise<void> {
    this.#config = config;
    try {
      await this.#setup(config);
    } catch (error) {
      this.#deps.log.error(
        'error',
        `firewall setup failed: ${(error as Error).message}; the firewall rules stay as they were`,
      );
    }
  }

  async #setup(config: KnockdConfig): Promise<void> {
    const log = this.#deps.log;
    if (!needsFirewall(config)) return;
    const kind =
      config.options.firewall ??
      (await (this.#deps.detectFirewall?.() ?? Promise.resolve('none' as const)));
    if (kind === 'none') {
      log.error(
        'error',
        'a door uses Open_Ports or Ban, but there is no firewall backend (Firewall = none, or neither nft nor iptables installed): those doors only run their commands',
      );
      this.#firewall = undefined;
      return;
    }
    // A new backend is used only once it is set up: a failed reload keeps the old one.
    const firewall = this.#firewall?.kind === kind ? this.#firewall : this.#deps.firewall?.(kind);
    if (!firewall) return;
    const spec: FirewallSpec = {
      // Two doors may open the same port: each once in the rules and in the log line.
      protectedPorts: uniquePorts(config.doors.flatMap((d) => d.openPorts ?? [])),
      trusted: [],
    };
    const path = config.options.trustedFile;
    if (path !== undefined && this.#deps.loadTrusted) {
      const loaded = await this.#deps.loadTrusted(path);
      for (const issue of loaded.issues)
        log.log({
          level: issue.severity === 'error' ? 'error' : 'info',
          event: 'error',
          msg: formatIssue(issue).replace(/\n\s*/g, ' '),
        });
      if (!hasErrors(loaded.issues)) spec.trusted = loaded.addresses;
      else if (this.#trusted === undefined)
        log.error(
          'error',
          `${path} has errors: nothing in it is trusted until it is fixed (then SIGHUP)`,
        );
      else {
        // As with a bad config at reload: keep what runs (an empty list would lock every
        // trusted host out because of one typo).
        spec.trusted = this.#trusted;
        const n = this.#trusted.length;
        log.error(
          'error',
          `${path} has errors: keeping the ${n} trusted entr${n === 1 ? 'y' : 'ies'} loaded before`,
        );
      }
    }
    await firewall.setup(spec);
    this.#firewall = firewall;
    this.#trusted = spec.trusted;
    log.info(
      'log',
      `firewall (${kind}) set up: protecting ${showPorts(spec.protectedPorts) || 'nothing'}, ${spec.trusted.length} trusted`,
    );
  }

  open(door: Door, src: string, family: 4 | 6): void {
    void this.#doors.open(door, src, family);
    if (door.revoke)
      void revokeFor(door, src, {
        config: () => this.#config,
        firewall: () => this.#firewall,
        runPendingNow: (name, from) => this.#doors.runPendingNow(name, from),
        log: this.#deps.log,
      });
    const firewall = this.#firewall;
    const log = this.#deps.log;
    const extra = { src, door: door.name };
    if (door.openPorts && door.openPorts.length > 0) {
      if (!firewall) {
        log.error(
          'error',
          `${src}: ${door.name}: no firewall backend: ${showPorts(door.openPorts)} not opened`,
          extra,
        );
      } else {
        const seconds = door.openTimeout ?? DEFAULT_OPEN_TIMEOUT;
        const stats = this.#deps.stats;
        firewall.grant(src, door.openPorts, seconds, { door: door.name }).then(
          () => {
            if (stats) {
              stats.grants++;
              stats.grantExpiries.set(`${src} ${door.name}`, Date.now() + seconds * 1000);
            }
            log.info(
              'command',
              `${src}: ${door.name}: opened ${showPorts(door.openPorts ?? [])} for ${seconds} s`,
              extra,
            );
          },
          (error: unknown) => {
            if (stats) stats.firewallFailures++;
            log.error(
              'commandFailed',
              `${src}: ${door.name}: could not open ${showPorts(door.openPorts ?? [])}: ${(error as Error).message}`,
              extra,
            );
          },
        );
      }
    }
    if (door.ban !== undefined) {
      if (!firewall) {
        log.error('error', `${src}: ${door.name}: no firewall backend: not banned`, extra);
      } else {
        const seconds = door.ban;
        const stats = this.#deps.stats;
        firewall.ban(src, seconds, { door: door.name }).then(
          () => {
            if (stats) {
              stats.bans++;
              stats.banExpiries.set(src, seconds === 0 ? Infinity : Date.now() + seconds * 1000);
            }
            log.info(
              'command',
              `${src}: ${door.name}: banned ${seconds === 0 ? 'until flushed' : `for ${seconds} s`}`,
              extra,
            );
          },
          (error: unknown) => {
            if (stats) stats.firewallFailures++;
            log.error(
              'commandFailed',
              `${src}: ${door.name}: could not ban: ${(error as Error).message}`,
              extra,
            );
          },
        );
      }
    }
  }

  pendingStops(): PendingStop[] {
    return this.#doors.pending();
  }

  runAllPendingNow(): Promise<void> {
    return this.#doors.runAllPendingNow();
  }

  close(): Promise<void> {
    return this.#deps.runner.close();
  }
}
