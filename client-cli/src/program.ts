import { Command, CommanderError } from 'commander';
import { ExitCode, KnockError, type ExitCodeName } from '@knock/shared/core';
import type { CliDeps } from './deps.js';
import { runKnock, type KnockOptions } from './commands/knock.js';
import { TIMEOUT_DEFAULT_HELP } from './knock-flow.js';
import { MAX_DELAY_MS, parseDelay, parseSeconds } from './args.js';
import { addSubcommands, CONFIG_HELP, familyOptions } from './subcommands.js';

/** The exit codes `knock` itself can end with (the table in shared also has the server's). */
export const CLIENT_EXIT_CODES: Readonly<Partial<Record<ExitCodeName, string>>> = {
  ok: 'success (knocked; with --verify, the port is open)',
  failure: 'failure (the terminal UI could not start)',
  usage: 'bad command line (unknown option, bad port, host or number)',
  config: 'invalid or unreadable profile file, or one named by -c/$KNOCK_CONFIG is missing',
  noProfile: 'no profile for that host',
  resolve: 'host name does not resolve',
  network: 'could not send or connect (no route, unreachable, refused)',
  closed: 'knocked, but the port stayed closed',
  otsExhausted: 'one-time-sequence file used up',
  otsFile: 'one-time-sequence file missing, unreadable, malformed or locked',
  exec: 'could not run ssh',
  internal: 'internal error (a bug: please report it)',
};
import { completionCommand } from './completion.js';

// Built when --help asks for it, not at every start.
const exitCodeHelp = () =>
  (Object.keys(CLIENT_EXIT_CODES) as ExitCodeName[])
    .map((name) => `  ${String(ExitCode[name]).padStart(2)}  ${CLIENT_EXIT_CODES[name]}`)
    .join('\n') + "\n  knock ssh ends with ssh's own exit status once ssh runs.";

const examples = () => `
Examples:
  knock ssh.maths.fr 1228 1227          knock TCP 1228 then 1227 (knockd's knock, same flags)
  knock -v -d 200 192.0.2.2 7000:udp 8000 9000
  knock -u 2001:db8::2 2222 3333        every knock UDP, over IPv6
  knock ssh.maths.fr                    knock the profile's sequence (see knock list)
  knock --verify ssh.maths.fr           ... and wait until its port (22) is open
  knock --verify=ssh 192.0.2.2 1228     knock 1228, then wait until port 22 (ssh) is open
  knock ssh user@ssh.maths.fr           knock, wait for port 22, then run ssh
  ssh -o ProxyCommand='knock proxy %h %p' ssh.maths.fr
  knock import 'knock://ssh.example.org?door=ssh&secret=…'   a rotating door's profile

Every command has its own --help: knock list --help, knock ssh --help, ...

Profiles: TOML at $KNOCK_CONFIG, else $XDG_CONFIG_HOME/knock/config.toml
(~/.config/knock/config.toml):
  [hosts."ssh.maths.fr"]
  sequence = "1228,1227"   # or one_time_sequences = "~/.config/knock/ssh.ots"
  port = 22
  family = "any"           # any | ipv4 | ipv6
  delay_ms = 0

A rotating door's profile has secret_file (or secret), door, length, step, ports instead
of sequence; it knocks the sequence of this computer's clock ($KNOCK_CLOCK_OFFSET=SECONDS
moves that clock).

Exit codes:
${exitCodeHelp()}
`;

/**
 * The `knock` command line. Nothing here touches the process: output, exit code
 * and every effect go through `deps`, and errors are thrown (a KnockError, or a
 * CommanderError whose message commander already printed).
 */
export function createProgram(deps: CliDeps): Command {
  const program = new Command('knock');
  program
    .description(
      "Send a port-knock sequence (knockd's knock, same flags), or knock a saved profile.\n" +
        'Without arguments in a terminal: the interactive UI (knock ui).',
    )
    .usage('[options] HOST [PORT[:PROTO]...]')
    .version(`knock ${deps.version}`, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help (exit 0; knockd exits 1)')
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (text) => deps.stdout.write(text),
      writeErr: (text) => deps.stderr.write(text),
      outputError: (text, write) =>
        write(`knock: ${text.replace(/^error: /, '').trimEnd()}\n  hint: see knock --help\n`),
    })
    .exitOverride((error) => {
      // Help and version end with 0; every other commander error is a usage error.
      if (error.exitCode === 0) throw error;
      throw new CommanderError(ExitCode.usage, error.code, error.message);
    })
    .addHelpText('after', examples);

  addKnockOptions(program, deps);
  // addCommand does not copy the parent's settings (command() does): output and exit
  // handling. Copied first, so a subcommand can still change its own help option; each
  // has its own -h, --help (knockd's "exit 1" note is about knock itself).
  const sub = (name: string) =>
    new Command(name)
      .copyInheritedSettings(program)
      .helpOption('-h, --help', 'show this help and exit');
  addSubcommands(program, deps, sub);
  program.addCommand(completionCommand(program, sub, deps.stdout));
  program.hook('preAction', (_root, action) => passRootOptions(program, action));
  return program;
}

const flagsOf = (command: Command, attribute: string) =>
  command.options.find((o) => o.attributeName() === attribute)?.flags ?? attribute;

/**
 * `knock -c FILE list`: options written before a subcommand are parsed by knock itself
 * (commander's positional options). Each one the subcommand has too is handed to it (the
 * subcommand's own, written after it, wins); any other is refused, naming it, rather
 * than silently ignored.
 */
function passRootOptions(program: Command, action: Command): void {
  if (action === program) return;
  const path: string[] = [];
  for (let c: Command | null = action; c && c !== program; c = c.parent) path.unshift(c.name());
  const name = `knock ${path.join(' ')}`;
  for (const [attribute, value] of Object.entries(program.opts())) {
    if (program.getOptionValueSource(attribute) !== 'cli') continue;
    const own = action.options.find((o) => o.attributeName() === attribute);
    if (own === undefined) {
      const takes = action.options
        .filter((o) => !o.negate && o.long !== '--help')
        .map((o) => o.flags);
      throw new KnockError(
        'knock.usage.misplacedOption',
        `${flagsOf(program, attribute)} is an option of knock HOST, not of ${name}`,
        {
          exitCode: ExitCode.usage,
          hint:
            takes.length > 0
              ? `${name} takes ${takes.join(', ')} (see ${name} --help)`
              : `${name} takes no such options (see ${name} --help)`,
        },
      );
    }
    if (action.getOptionValueSource(attribute) === 'cli') continue;
    // Commander checks conflicts before hooks run; check the handed-over option here.
    const conflicts = (own as typeof own & { conflictsWith?: string[] }).conflictsWith ?? [];
    for (const other of conflicts) {
      if (action.getOptionValueSource(other) === 'cli')
        throw new KnockError(
          'knock.usage.conflict',
          `${flagsOf(program, attribute)} and ${flagsOf(action, other)} cannot be used together`,
          { exitCode: ExitCode.usage, hint: 'give only one of them' },
        );
    }
    action.setOptionValueWithSource(attribute, value, 'cli');
  }
}

/** The root command's arguments and options: knockd's, then ours. */
function addKnockOptions(program: Command, deps: CliDeps): void {
  program
    .argument('[host]', 'host name or address to knock')
    .argument('[ports...]', 'PORT[:tcp|udp] to knock, in order (a port number or service name)')
    .option('-u, --udp', 'make every knock UDP (even PORT:tcp)')
    .option(
      '-d, --delay <ms>',
      `wait MS milliseconds after every knock (0 to ${MAX_DELAY_MS})`,
      (text) => parseDelay(text),
    );
  for (const option of familyOptions()) program.addOption(option);
  program
    .option('-v, --verbose', 'print each knock as it is sent (hitting tcp ADDRESS:PORT)')
    .option(
      '--verify [port]',
      'after knocking, wait until PORT (a number or a service name such as ssh; default: the profile port) accepts connections',
    )
    .option('--timeout <seconds>', `how long --verify waits (${TIMEOUT_DEFAULT_HELP})`, (text) =>
      parseSeconds(text, '--timeout'),
    )
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (host: string | undefined, ports: string[], options: KnockOptions) =>
      runKnock(deps, host, ports, options),
    );
}
