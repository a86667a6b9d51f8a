/**
 * `knock-server` without a subcommand: load the config, apply knockd's precedence
 * rules, set up logging, daemonize if asked, start the daemon, write the pidfile,
 * and serve signals until SIGTERM/SIGINT.
 *
 * Precedence, as in knockd (kept so existing units behave the same):
 * - `-i` overrides `Interface`; without either, the interface of the default route
 *   (knockd: eth0, which often does not exist).
 * - `LogFile` and `PidFile` in the config override `-g` and `-p` (knockd parses the
 *   config after the command line).
 * - The pidfile is written with `-d` (default /var/run/knockd.pid, as knockd), and also
 *   in the foreground when `-p` or `PidFile` names one (knockd ignores them there).
 */
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  DEFAULT_PID_FILE,
  ExitCode,
  KnockError,
  describeError,
  formatIssue,
  hasErrors,
  type ExitCodeValue,
  type KnockdConfig,
} from '@knock/shared';
import { loadConfig } from '../cli/check.js';
import { clusterUsedStore, openUsedStore } from '../rotating/state.js';
import type { ServerOptions } from '../cli/options.js';
import { Daemon } from './daemon.js';
import { FileSink, Logger, streamSink, type LogSink } from './log.js';
import { HostLookup } from './lookup.js';
import { checkPidfile, removePidfile, writePidfile } from './pidfile.js';
import type { ActionsDeps, CaptureDeps, OtsFileDeps } from './deps.js';
import type { ClusterNode } from '../cluster/node.js';
import { SyslogSink } from './syslog.js';
import { DaemonStats } from '../metrics/stats.js';

/** Set in the environment of the background copy that -d starts. */
export const DAEMON_CHILD_ENV = 'KNOCK_SERVER_DAEMON_CHILD';
/** The pipe on which the background copy tells the foreground one how its start went. */
const STATUS_FD = 3;

export interface ProcessDeps {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** How to start this program again: [node, ...execArgv, script, ...args]. */
  selfArgv: string[];
  /** Where signals arrive (process). */
  signals: {
    on(signal: NodeJS.Signals, handler: () => void): unknown;
    off(signal: NodeJS.Signals, handler: () => void): unknown;
  };
}

/** The real implementations, bound in bin/knock-server.ts. */
export interface ServerDeps {
  capture: CaptureDeps;
  ots: OtsFileDeps;
  defaultInterface: () => Promise<string>;
  createActions: (
    config: KnockdConfig,
    log: Logger,
    stats: DaemonStats,
    cluster?: ClusterNode,
  ) => Promise<ActionsDeps>;
  /** Connects to the cluster the config names (Cluster =), or undefined; throws when it cannot. */
  openCluster?: (config: KnockdConfig, log: Logger) => Promise<ClusterNode | undefined>;
  /** The control socket and metrics endpoint (control/operations.ts); none in unit tests. */
  startOperations?: (deps: {
    daemon: Daemon;
    actions: ActionsDeps;
    log: Logger;
    config: KnockdConfig;
  }) => Promise<{ close(): Promise<void> }>;
  /** syslog socket (tests point it elsewhere). */
  syslogSocket?: string;
}

/** Where things go, after knockd's precedence rules. */
export interface Resolved {
  configPath: string;
  interfaces: string[];
  logFile: string | undefined;
  pidFile: string | undefined;
}

export async function resolveSettings(
  options: ServerOptions,
  config: KnockdConfig,
  defaultInterface: () => Promise<string>,
): Promise<Omit<Resolved, 'configPath'>> {
  const fromConfig = config.options.interface
    ?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const interfaces =
    options.interfaces ??
    (fromConfig && fromConfig.length > 0 ? fromConfig : [await defaultInterface()]);
  const logFile = config.options.logFile ?? options.logfile;
  const pidFile =
    config.options.pidFile ?? options.pidfile ?? (options.daemon ? DEFAULT_PID_FILE : undefined);
  return { interfaces, logFile, pidFile };
}

/** Loads the config for startup: errors are printed, one per line, and stop the start. */
async function loadForStart(path: string, proc: ProcessDeps): Promise<KnockdConfig> {
  const loaded = await loadConfig(path);
  for (const issue of loaded.issues) proc.stderr(`${formatIssue(issue)}\n`);
  if (hasErrors(loaded.issues)) {
    const errors = loaded.issues.filter((i) => i.severity === 'error').length;
    throw new KnockError(
      'server.configInvalid',
      `${path}: ${errors} error${errors === 1 ? '' : 's'}: knock-server did not start`,
      {
        exitCode: ExitCode.config,
        hint: `fix the lines above (knock-server check -c ${path} checks without starting)`,
      },
    );
  }
  return loaded.config;
}

export async function runServer(
  options: ServerOptions,
  proc: ProcessDeps,
  deps: ServerDeps,
): Promise<void> {
  const child = options.daemon && proc.env[DAEMON_CHILD_ENV] === '1';
  if (!child) return startServer(options, proc, deps);
  try {
    await startServer(options, proc, deps, () => reportToParent('ready\n'));
  } catch (error) {
    const { text, exitCode } = describeError(error);
    reportToParent(`error ${exitCode}\n${text}`);
    throw error;
  }
}

function reportToParent(text: string): void {
  try {
    writeSync(STATUS_FD, text);
    closeSync(STATUS_FD);
  } catch {
    // the foreground copy is gone: nobody to tell
  }
}

/** Logging: file (knockd's format or JSON), stdout for -v/-D, syslog. */
function openLog(
  options: ServerOptions,
  config: KnockdConfig,
  settings: Pick<Resolved, 'logFile'>,
  proc: ProcessDeps,
  deps: ServerDeps,
): Logger {
  let syslog: SyslogSink | undefined;
  const warn = (text: string) => {
    proc.stderr(`knock-server: ${text}\n`);
    syslog?.write({ level: 'error', event: 'log', msg: text });
  };
  const sinks: LogSink[] = [];
  if (config.options.useSyslog)
    sinks.push(
      (syslog = new SyslogSink({
        warn: (text) => proc.stderr(`knock-server: ${text}\n`),
        ...(deps.syslogSocket ? { socket: deps.syslogSocket } : {}),
      })),
    );
  if (settings.logFile) {
    const file = new FileSink({ path: resolve(settings.logFile), format: options.logFormat, warn });
    file.openNow(); // a problem is told now (once), and retried
    sinks.push(file);
  }
  if (options.verbose || options.debug)
    sinks.push(streamSink(proc.stdout, { format: options.logFormat, verbose: options.verbose }));
  return new Logger({ sinks, debug: options.debug });
}

async function startServer(
  options: ServerOptions,
  proc: ProcessDeps,
  deps: ServerDeps,
  ready?: () => void,
): Promise<void> {
  const configPath = resolve(options.config);
  const config = await loadForStart(configPath, proc);
  const settings = await resolveSettings(options, config, deps.defaultInterface);
  if (options.daemon && !ready) {
    await daemonize(proc, settings.pidFile);
    return;
  }
  if (settings.pidFile) checkPidfile(settings.pidFile);

  const log = openLog(options, config, settings, proc, deps);

  // Signals are ours from here on: a SIGHUP during the start (the default action would
  // kill us) is kept for after it; a SIGTERM during the start stops right after it.
  let daemon: Daemon | undefined;
  let cluster: ClusterNode | undefined;
  let operations: { close(): Promise<void> } | undefined;
  let started = false;
  let reloadAfterStart = false;
  let stopping = false;
  let finished: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (finished = resolve));
  const hup = () => {
    if (started) void daemon?.reload();
    else reloadAfterStart = true;
  };
  const stop = () => {
    if (stopping) {
      log.info('stop', 'still stopping: waiting for pending stop commands to finish');
      return;
    }
    stopping = true;
    if (!started) return; // start() finishes first, then stops
    void (operations?.close() ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => (daemon as Daemon).stop())
      .catch((error: unknown) => log.error('error', `while stopping: ${(error as Error).message}`))
      .then(() => cluster?.stop())
      .finally(() => {
        unlisten();
        if (settings.pidFile) removePidfile(settings.pidFile);
        log.close();
        finished();
      });
  };
  const unlisten = () => {
    proc.signals.off('SIGHUP', hup);
    proc.signals.off('SIGTERM', stop);
    proc.signals.off('SIGINT', stop);
  };
  proc.signals.on('SIGHUP', hup);
  proc.signals.on('SIGTERM', stop);
  proc.signals.on('SIGINT', stop);

  try {
    cluster = await deps.openCluster?.(config, log);
    const stats = new DaemonStats(Date.now());
    const actions = await deps.createActions(config, log, stats, cluster);
    const fileStore = await openUsedStore(options.stateDir, log);
    // With a cluster, a rotating door's derived sequence opens once across all nodes.
    const usedStore = cluster ? clusterUsedStore(fileStore, cluster, log) : fileStore;
    daemon = new Daemon({
      stats,
      configPath,
      config,
      loadConfig,
      interfaces: settings.interfaces,
      ipv4Only: options.onlyIpv4,
      maxAttempts: options.maxAttempts,
      capture: deps.capture,
      actions,
      ots: deps.ots,
      log,
      usedStore,
      ...(options.lookup ? { lookup: new HostLookup() } : {}),
      ...(cluster ? { singleUse: cluster, cluster } : {}),
    });
    try {
      await daemon.start();
      cluster?.startTimers();
      if (settings.pidFile) writePidfile(settings.pidFile);
      operations = await deps.startOperations?.({ daemon, actions, log, config });
    } catch (error) {
      // Why, before the "shutting down" that stop() logs.
      logStartFailure(log, error);
      await daemon.stop().catch(() => undefined);
      throw error;
    }
  } catch (error) {
    logStartFailure(log, error);
    cluster?.close();
    unlisten();
    log.close();
    throw error;
  }
  started = true;
  ready?.();
  if (stopping) {
    stopping = false;
    stop();
  } else if (reloadAfterStart) {
    void daemon.reload();
  }
  await stopped;
}

const loggedFailures = new WeakSet<object>();

/** A start that fails says why in the log (once), not only on the terminal that may be gone. */
function logStartFailure(log: Logger, error: unknown): void {
  if (typeof error === 'object' && error !== null) {
    if (loggedFailures.has(error)) return;
    loggedFailures.add(error);
  }
  const { text } = describeError(error);
  log.error('error', `knock-server did not start: ${text.replace(/\n\s*/g, ' ')}`);
}

/**
 * -d: Node cannot fork(), so the program starts itself again, detached, with stdio on
 * /dev/null and DAEMON_CHILD_ENV set, and waits until that copy has opened the capture
 * and written the pidfile (or failed: its error is reported here, with its exit code).
 */
async function daemonize(proc: ProcessDeps, pidFile: string | undefined): Promise<void> {
  if (pidFile) checkPidfile(pidFile);
  const [command, ...args] = proc.selfArgv;
  if (command === undefined)
    throw new KnockError(
      'server.daemonize',
      'cannot find our own program to start in the background',
    );
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: { ...proc.env, [DAEMON_CHILD_ENV]: '1' },
  });
  const status = child.stdio[STATUS_FD] as NodeJS.ReadableStream | null;
  const message = await new Promise<string>((done) => {
    let text = '';
    const timer = setTimeout(() => done('timeout'), 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      done(`error ${ExitCode.internal}\ncannot start the background process: ${error.message}`);
    });
    status?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    status?.on('end', () => {
      clearTimeout(timer);
      done(text);
    });
  });
  child.unref();
  (status as unknown as { destroy?: () => void } | null)?.destroy?.();
  if (message.startsWith('ready')) return;
  if (message === 'timeout')
    throw new KnockError(
      'server.daemonize',
      'the background knock-server did not report its start within 60 s',
      {
        hint: 'run it in the foreground (without -d) with -v to see what it is doing',
      },
    );
  const match = /^error (\d+)\n([\s\S]*)$/.exec(message);
  if (match) {
    const [, code, text] = match;
    const error = new KnockError('server.daemonChild', text ?? 'failed', {
      exitCode: Number(code) as ExitCodeValue,
    });
    throw error;
  }
  throw new KnockError(
    'server.daemonize',
    `the background knock-server exited during startup${child.exitCode !== null ? ` (status ${child.exitCode})` : ''}`,
    { hint: 'run it in the foreground (without -d) to see why' },
  );
}
