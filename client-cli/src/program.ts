import { Command, CommanderError } from 'commander';
import { ExitCode, exitCodeDescriptions, type ExitCodeName } from '@knock/shared';
import type { CliDeps } from './deps.js';
import { addKnockAction } from './commands/knock.js';
import { listCommand } from './commands/list.js';
import { otsCommand } from './commands/ots.js';
import { proxyCommand } from './commands/proxy.js';
import { sshCommand } from './commands/ssh.js';
import { uiCommand } from './commands/ui.js';

const exitCodeHelp = (Object.keys(ExitCode) as ExitCodeName[])
  .map((name) => `  ${String(ExitCode[name]).padStart(2)}  ${exitCodeDescriptions[name]}`)
  .join('\n');

const examples = `
Examples:
  knock ssh.maths.fr 1228 1227          knock TCP 1228 then 1227 (knockd's knock, same flags)
  knock -v -d 200 192.0.2.2 7000:udp 8000 9000
  knock -u 2001:db8::2 2222 3333        every knock UDP, over IPv6
  knock ssh.maths.fr                    knock the profile's sequence (see knock list)
  knock --verify ssh.maths.fr           ... and wait until its port (22) is open
  knock ssh user@ssh.maths.fr           knock, wait for port 22, then run ssh
  ssh -o ProxyCommand='knock proxy %h %p' ssh.maths.fr

Profiles: TOML at $KNOCK_CONFIG, else $XDG_CONFIG_HOME/knock/config.toml
(~/.config/knock/config.toml):
  [hosts."ssh.maths.fr"]
  sequence = "1228,1227"   # or one_time_sequences = "~/.config/knock/ssh.ots"
  port = 22
  family = "any"           # any | ipv4 | ipv6
  delay_ms = 0

Exit codes:
${exitCodeHelp}
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

  addKnockAction(program, deps);
  // addCommand does not copy the parent's settings (command() does): output and exit
  // handling. Copied first, so a subcommand can still change its own help option.
  const sub = (name: string) => new Command(name).copyInheritedSettings(program);
  for (const make of [listCommand, otsCommand, sshCommand, proxyCommand, uiCommand])
    program.addCommand(make(deps, sub));
  return program;
}
