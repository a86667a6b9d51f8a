import { Command, CommanderError } from 'commander';
import { ExitCode, exitCodeDescriptions, type ExitCodeName } from '@knock/shared/core';
import type { CliDeps } from './deps.js';
import { runKnock, type KnockOptions } from './commands/knock.js';
import { DEFAULT_VERIFY_TIMEOUT_MS } from './knock-flow.js';
import { parseDelay, parseSeconds } from './ports.js';
import { addSubcommands, familyOptions } from './subcommands.js';

// Built when --help asks for it, not at every start.
const exitCodeHelp = () =>
  (Object.keys(ExitCode) as ExitCodeName[])
    .map((name) => `  ${String(ExitCode[name]).padStart(2)}  ${exitCodeDescriptions[name]}`)
    .join('\n');

const examples = () => `
Examples:
  knock ssh.maths.fr 1228 1227          knock TCP 1228 then 1227 (knockd's knock, same flags)
  knock -v -d 200 192.0.2.2 7000:udp 8000 9000
  knock -u 2001:db8::2 2222 3333        every knock UDP, over IPv6
  knock ssh.maths.fr                    knock the profile's sequence (see knock list)
  knock --verify ssh.maths.fr           ... and wait until its port (22) is open
  knock ssh user@ssh.maths.fr           knock, wait for port 22, then run ssh
  ssh -o ProxyCommand='knock proxy %h %p' ssh.maths.fr
  knock import 'knock://ssh.example.org?door=ssh&secret=…'   a rotating door's profile

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
  // handling. Copied first, so a subcommand can still change its own help option.
  const sub = (name: string) => new Command(name).copyInheritedSettings(program);
  addSubcommands(program, deps, sub);
  return program;
}

/** The root command's arguments and options: knockd's, then ours. */
function addKnockOptions(program: Command, deps: CliDeps): void {
  program
    .argument('[host]', 'host name or address to knock')
    .argument('[ports...]', 'PORT[:tcp|udp] to knock, in order (a port number or service name)')
    .option('-u, --udp', 'make every knock UDP (even PORT:tcp)')
    .option('-d, --delay <ms>', 'wait MS milliseconds after every knock', parseDelay);
  for (const option of familyOptions()) program.addOption(option);
  program
    .option('-v, --verbose', 'print each knock as it is sent (hitting tcp ADDRESS:PORT)')
    .option(
      '--verify [port]',
      'after knocking, wait until PORT (default: the profile port) accepts connections',
    )
    .option(
      '--timeout <seconds>',
      `how long --verify waits (default: the profile's, else ${DEFAULT_VERIFY_TIMEOUT_MS / 1000})`,
      (text) => parseSeconds(text, '--timeout'),
    )
    .option(
      '-c, --config <file>',
      'profile file (default: $KNOCK_CONFIG, else ~/.config/knock/config.toml)',
    )
    .action(async (host: string | undefined, ports: string[], options: KnockOptions) =>
      runKnock(deps, host, ports, options),
    );
}
