/**
 * The `knock-server` command line: knockd's flags with knockd's meaning, plus
 * `check`, `ots generate`, and the slots for `fw` and `install-service`.
 *
 * createProgram() takes every effect as a dependency, so tests drive it with
 * `parseAsync([...], { from: 'user' })` and fake runners; bin/knock-server.ts binds
 * the real ones.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_CONFIG_FILE,
  DEFAULT_PID_FILE,
  ExitCode,
  exitCodeDescriptions,
  type ExitCodeName,
} from '@knock/shared';
import { checkCommand, type CheckDeps } from './check.js';
import { completionCommand } from './completion.js';
import { otsCommand, type OtsDeps } from './ots.js';
import { wholeNumber } from './option-values.js';
import { secretCommand, type SecretDeps } from './secret.js';
import {
  DEFAULT_MAX_ATTEMPTS,
  MAX_CAPTURE_BUFFER_MIB,
  MAX_MAX_ATTEMPTS,
  MIN_CAPTURE_BUFFER_MIB,
  defaultServerOptions,
  type ServerOptions,
} from './options.js';

export interface ProgramDeps extends CheckDeps, OtsDeps, SecretDeps {
  version: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Runs the daemon until it stops; throws a KnockError when it cannot start. */
  runServer: (options: ServerOptions) => Promise<void>;
  /** Subcommands owned by other modules (`fw`, `install-service`), added as they are. */
  extraCommands?: Command[];
}

/** commander reports every usage error with exit 1; ours is ExitCode.usage (2). */
function remapExit(error: CommanderError): never {
  const exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  throw new CommanderError(exitCode, error.code, error.message);
}

/** exitOverride + output on a command and every subcommand under it (addCommand copies nothing). */
export function applySeams(command: Command, deps: Pick<ProgramDeps, 'stdout' | 'stderr'>): void {
  command.exitOverride(remapExit);
  command.configureOutput({
    writeOut: deps.stdout,
    writeErr: deps.stderr,
    outputError: (text, write) => write(text.startsWith('error:') ? `knock-server: ${text}` : text),
  });
  command.showSuggestionAfterError(true);
  for (const sub of command.commands) applySeams(sub, deps);
}

const interfaceList = (value: string, previous: string[] | undefined): string[] => {
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === ''))
    throw new InvalidArgumentError(
      `empty interface name in "${value}": write -i eth0 or -i eth0,wlan0`,
    );
  return [...(previous ?? []), ...names];
};

const exitCodeTable = (): string =>
  (Object.keys(exitCodeDescriptions) as ExitCodeName[])
    .filter((name) =>
      (
        [
          'ok',
          'failure',
          'usage',
          'config',
          'otsFile',
          'firewall',
          'capture',
          'alreadyRunning',
          'permission',
          'cluster',
          'internal',
        ] as string[]
      ).includes(name),
    )
    .map((name) => `  ${String(ExitCode[name]).padStart(2)}  ${exitCodeDescriptions[name]}`)
    .join('\n');

export function helpEpilogue(): string {
  return `
Examples:
  knock-server                           watch the default-route interface, /etc/knockd.conf
  knock-server -i eth0,wlan0 -v          two interfaces, print what happens
  knock-server -d -c /etc/knockd.conf    run in the background (pidfile /var/run/knockd.pid)
  knock-server check -c knockd.conf      validate a config; every problem with file:line:col
  knock-server ots generate --count 50 --length 3 /etc/knockd/ssh.ots
  knock-server status [--watch]          what the running daemon does: doors, knocks, drops
  knock-server metrics                   its Prometheus metrics (also: Metrics_Listen)
  knock-server secret new ssh --host ssh.example.org --port 22
                                         a rotating door: secret file, door lines, knock:// URI

Config: ${DEFAULT_CONFIG_FILE} unless -c; any knockd 0.8 config works unchanged.
  In [options], LogFile and PidFile override -g and -p (as in knockd); -i overrides Interface.
  Without -i or Interface, the interface carrying the default route is used.

Signals:
  SIGHUP           re-read the config; attempts of unchanged doors and pending stop
                   commands are kept; a config with errors is logged and the old one kept
  SIGTERM, SIGINT  run pending stop commands now, log "shutting down", exit 0

Environment:
  KNOCK_SERVER_SYSLOG_SOCKET   syslog socket for UseSyslog (default /dev/log)

Exit codes:
${exitCodeTable()}
`;
}

export function createProgram(deps: ProgramDeps): Command {
  const defaults = defaultServerOptions();
  const program = new Command('knock-server')
    .description(
      "Port-knock daemon: watches the network for knock sequences and, for whoever knocked, runs the door's commands or opens the built-in firewall. A drop-in for knockd 0.8.",
    )
    .version(
      `knock-server ${deps.version} (knockd 0.8 compatible)`,
      '-V, --version',
      'print the version and exit',
    )
    .helpOption('-h, --help', 'show this help and exit')
    // commander adds `help [command]` only to programs without an action of their own.
    .helpCommand('help [command]', 'show the help of a command (knock-server help check)')
    .option(
      '-i, --interface <if[,if…]>',
      'interface(s) to listen on (overrides Interface; default: Interface, else the interface of the default route)',
      interfaceList,
    )
    .option('-d, --daemon', 'run in the background and write the pidfile')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('-D, --debug', 'print debug lines on stdout')
    .option('-v, --verbose', 'print what happens on stdout')
    .option('-l, --lookup', 'add reverse-DNS names to log lines (never to commands)')
    .option(
      '-p, --pidfile <file>',
      `pidfile (PidFile in the config wins; default: ${DEFAULT_PID_FILE} with -d, none without)`,
    )
    .option('-g, --logfile <file>', 'log file (LogFile in the config wins; default: none)')
    .option('-4, --only-ip-v4', 'ignore IPv6 knocks')
    .addOption(
      new Option('--log-format <format>', 'log file and -v format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option(
      '--max-attempts <n>',
      `most knock attempts tracked at once, 1 to ${MAX_MAX_ATTEMPTS} (oldest evicted first)`,
      wholeNumber('--max-attempts', 1, MAX_MAX_ATTEMPTS),
      DEFAULT_MAX_ATTEMPTS,
    )
    .option(
      '--capture-buffer <MiB>',
      `kernel capture ring per interface, ${MIN_CAPTURE_BUFFER_MIB} to ${MAX_CAPTURE_BUFFER_MIB} MiB (default 8, what absorbs the start of a flood; 2, knockd's size, saves 6 MB of memory)`,
      wholeNumber('--capture-buffer', MIN_CAPTURE_BUFFER_MIB, MAX_CAPTURE_BUFFER_MIB),
    )
    .option(
      '--state-dir <dir>',
      'where rotating doors remember the sequences already used (default /var/lib/knock-server)',
    )
    .allowExcessArguments(false)
    // `check -c FILE`: options after a subcommand belong to it, not to the daemon.
    .enablePositionalOptions()
    .addHelpText('after', helpEpilogue())
    .action(async (opts: Record<string, unknown>) => {
      const options: ServerOptions = {
        ...defaults,
        daemon: opts.daemon === true,
        config: String(opts.config),
        debug: opts.debug === true,
        verbose: opts.verbose === true,
        lookup: opts.lookup === true,
        onlyIpv4: opts.onlyIpV4 === true,
        logFormat: opts.logFormat === 'json' ? 'json' : 'text',
        maxAttempts: typeof opts.maxAttempts === 'number' ? opts.maxAttempts : DEFAULT_MAX_ATTEMPTS,
      };
      if (Array.isArray(opts.interface)) options.interfaces = opts.interface as string[];
      if (typeof opts.pidfile === 'string') options.pidfile = opts.pidfile;
      if (typeof opts.logfile === 'string') options.logfile = opts.logfile;
      if (typeof opts.stateDir === 'string') options.stateDir = opts.stateDir;
      if (typeof opts.captureBuffer === 'number') options.captureBuffer = opts.captureBuffer;
      await deps.runServer(options);
    });

  program.addCommand(checkCommand(deps));
  program.addCommand(otsCommand(deps));
  program.addCommand(secretCommand(deps));

  for (const extra of deps.extraCommands ?? []) program.addCommand(extra);
  program.addCommand(completionCommand(program, deps.stdout));
  applySeams(program, deps);
  program.hook('preAction', (_program, leaf) => refuseDaemonOptions(program, leaf));
  for (const leaf of leaves(program)) markRequired(leaf);
  return program;
}

/** Every command that runs an action, the program included. */
export function leaves(command: Command): Command[] {
  const below = command.commands.flatMap(leaves);
  return command.commands.length === 0 ? [command] : below;
}

/** commander's help does not say which options are required: say it in each description. */
function markRequired(command: Command): void {
  for (const option of command.options)
    if (option.mandatory && !option.description.endsWith('(required)'))
      option.description += ' (required)';
}

/**
 * `knock-server -d check`: an option of the daemon given before a subcommand would be
 * silently ignored; refuse it. `-c` before a subcommand that reads a config is taken.
 */
function refuseDaemonOptions(program: Command, leaf: Command): void {
  if (leaf === program) return;
  const leafKeys = new Set(leaf.options.map((o) => o.attributeName()));
  for (const option of program.options) {
    const key = option.attributeName();
    const source = program.getOptionValueSource(key);
    if (source === undefined || source === 'default' || leafKeys.has(key)) continue;
    const path = [];
    for (let c: Command | null = leaf; c && c !== program; c = c.parent) path.unshift(c.name());
    program.error(
      `knock-server: ${option.flags.split(/[ ,]+/)[0] ?? option.long ?? ''} is an option of the daemon, not of \`knock-server ${path.join(' ')}\`: ` +
        `write it after the subcommand if \`knock-server ${path.join(' ')} --help\` lists it`,
      { exitCode: ExitCode.usage, code: 'knock-server.daemonOption' },
    );
  }
}
