import { Command, Option } from 'commander';
import {
  ExitCode,
  KnockError,
  MAX_SEQUENCE_LENGTH,
  hasErrors,
  parseSequence,
} from '@knock/shared/core';
import type { Knock } from '@knock/shared/core';
import type { CliDeps, SubcommandFactory } from './deps.js';
import { checkProfilesCommand } from './commands/check-profiles.js';
import type { ImportOptions } from './commands/import.js';
import type { OtsGenerateOptions } from './commands/ots.js';
import type { CloseOptions } from './commands/close.js';
import type { ProxyOptions } from './commands/proxy.js';
import type { SshOptions } from './commands/ssh.js';
import { TIMEOUT_DEFAULT_HELP } from './knock-flow.js';
import { parseSeconds } from './args.js';

// The subcommands as `--help` shows them (names, arguments, options and their parsers),
// declared here. What each one does is in commands/<name>.ts, imported when it runs:
// a plain knock loads none of them.

/** -4/-6, shared by the knock, proxy commands. */
export const familyOptions = (): Option[] => [
  new Option('-4, --ipv4', 'knock IPv4 addresses only').conflicts('ipv6'),
  new Option('-6, --ipv6', 'knock IPv6 addresses only').conflicts('ipv4'),
];

export const CONFIG_HELP =
  'profile file (default: $KNOCK_CONFIG, else ~/.config/knock/config.toml); it must exist';

const timeoutOption = (what: string) =>
  [
    '--timeout <seconds>',
    `how long to wait for ${what} (${TIMEOUT_DEFAULT_HELP})`,
    (t: string) => parseSeconds(t, '--timeout'),
  ] as const;

/** `--sequence` in knockd's Sequence syntax, checked before anything is sent. */
export function parseSequenceOption(text: string): Knock[] {
  const { knocks, issues } = parseSequence(text);
  const problem = issues.find((i) => i.severity === 'error');
  if (hasErrors(issues) && problem)
    throw new KnockError('knock.usage.sequence', `--sequence: ${problem.message}`, {
      exitCode: ExitCode.usage,
      ...(problem.hint ? { hint: problem.hint } : {}),
    });
  return knocks;
}

const integer = (flag: string, min: number, max: number) => (text: string) => {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max)
    throw new KnockError(
      'knock.usage.ots',
      `${flag} wants a whole number from ${min} to ${max}, got "${text}"`,
      {
        exitCode: ExitCode.usage,
      },
    );
  return Number(text);
};

const ratio = (text: string) => {
  if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(text))
    throw new KnockError(
      'knock.usage.ots',
      `--udp-ratio wants a number from 0 to 1, got "${text}"`,
      {
        exitCode: ExitCode.usage,
        hint: 'e.g. --udp-ratio 0.25 makes about a quarter of the knocks UDP',
      },
    );
  return Number(text);
};

/** `knock list`: the profiles, and which file they come from. */
function listCommand(deps: CliDeps, sub: SubcommandFactory) {
  return sub('list')
    .description('show the saved profiles and the file they are read from')
    .option('-c, --config <file>', CONFIG_HELP)
    .addHelpText(
      'after',
      `
Examples:
  knock list                       the profiles of ~/.config/knock/config.toml
  knock list -c ./lab.toml         another profile file (exit 3 if it does not exist)`,
    )
    .action(async (options: { config?: string }) =>
      (await import('./commands/list.js')).runList(deps, options),
    );
}

const OTS_EXAMPLES = `
Examples:
  knock ots generate --count 100 --length 3 ~/.config/knock/vpn.ots
  knock ots generate --count 50 --length 4 --udp-ratio 0.3 --min-port 2000 vpn.ots
Give the same file to the server (One_Time_Sequences = FILE) and name it in the profile:
  [hosts."vpn.example.org"]
  one_time_sequences = "vpn.ots"   # a relative path is read from the profile file's folder`;

/** `knock ots generate`: the same generator and file format as `knock-server ots generate`. */
function otsCommand(deps: CliDeps, sub: SubcommandFactory) {
  const ots = sub('ots').description('one-time-sequence files (knockd One_Time_Sequences format)');
  const generate = new Command('generate')
    .copyInheritedSettings(ots)
    .description(
      'write a new one-time-sequence file (the same generator as knock-server ots generate)',
    )
    .argument('<file>', 'the file to write (refused if it exists, unless --force)')
    .requiredOption(
      '--count <n>',
      'how many sequences, 1 to 1000000 (required)',
      integer('--count', 1, 1_000_000),
    )
    .requiredOption(
      '--length <l>',
      `knocks per sequence, 1 to ${MAX_SEQUENCE_LENGTH} (required)`,
      integer('--length', 1, MAX_SEQUENCE_LENGTH),
    )
    .option('--udp-ratio <r>', 'share of UDP knocks, 0 to 1', ratio, 0)
    .option('--min-port <port>', 'lowest port (default 1024)', integer('--min-port', 1, 65535))
    .option('--max-port <port>', 'highest port (default 65535)', integer('--max-port', 1, 65535))
    .option('--force', 'overwrite FILE if it exists')
    .addHelpText('after', OTS_EXAMPLES)
    .action(async (file: string, options: OtsGenerateOptions) =>
      (await import('./commands/ots.js')).runOtsGenerate(deps, file, options),
    );
  ots.addCommand(generate);
  ots.addHelpText('after', OTS_EXAMPLES);
  return ots;
}

/**
 * `knock ssh [--sequence SEQ] [ssh args…]`: asks ssh where it would go (`ssh -G`),
 * knocks that host, waits for its port, then runs ssh on the address that opened.
 */
function sshCommand(deps: CliDeps, sub: SubcommandFactory) {
  return sub('ssh')
    .description(
      'knock the host ssh is about to dial, wait until its port opens, then run ssh on that address',
    )
    .usage(
      '[--sequence SEQ] [--timeout S] [--config FILE] [--keep-open] [--verbose] [--] [ssh arguments...]',
    )
    .helpOption('--help', 'show this help (every short option belongs to ssh)')
    .option(
      '--sequence <seq>',
      'knock these ports (1228,1227:udp) instead of the profile',
      parseSequenceOption,
    )
    .option(...timeoutOption('the port to open'))
    .option('--config <file>', CONFIG_HELP)
    .option('--keep-open', KEEP_OPEN_HELP)
    .option('--verbose', 'say what knock does, on stderr')
    .argument('[ssh-args...]', 'passed to ssh unchanged')
    .addHelpText(
      'after',
      `
knock ssh's own options are long ones and come before the ssh arguments; every
short option (-p, -l, -4, -v, ...) belongs to ssh.

Examples:
  knock ssh me@ssh.maths.fr                   knock the profile, wait for port 22, run ssh
  knock ssh -p 2222 me@ssh.maths.fr uptime    ssh's own arguments, passed through
  knock ssh --sequence 1228,1227:udp --timeout 10 ssh.maths.fr
  knock ssh --config ./lab.toml -- -v lab1    -- ends knock's options
  knock ssh --keep-open me@ssh.maths.fr       keep the door open while ssh runs
${KEEP_OPEN_MORE}`,
    )
    .passThroughOptions()
    .allowUnknownOption()
    .action(async (args: string[], options: SshOptions) =>
      (await import('./commands/ssh.js')).runSsh(deps, args, options),
    );
}

/** `knock proxy HOST PORT`, an ssh ProxyCommand (`ProxyCommand knock proxy %h %p`). */
function proxyCommand(deps: CliDeps, sub: SubcommandFactory) {
  const command = sub('proxy')
    .summary('an ssh ProxyCommand: knock HOST, wait for PORT, relay stdin/stdout to it')
    .description(
      'an ssh ProxyCommand: knock HOST (its profile), wait for PORT, relay stdin/stdout to it. A host without a profile is connected to at once, without knocking (a refused port fails at once).',
    )
    .argument('<host>', 'the host (ssh: %h)')
    .argument('<port>', 'the port (ssh: %p)')
    .option('-v, --verbose', 'say what happens, on stderr')
    .option('--sequence <seq>', 'knock these ports instead of the profile', parseSequenceOption)
    .option(...timeoutOption('the port, or, without knocking, for the connection'))
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--keep-open', KEEP_OPEN_HELP)
    // Not wrapped by commander: the ssh_config lines stay whole at any terminal width.
    .addHelpText(
      'after',
      `
In ~/.ssh/config:
  Host ssh.maths.fr
      ProxyCommand knock proxy %h %p

Examples:
  ssh -o 'ProxyCommand knock proxy %h %p' ssh.maths.fr
  ssh -o 'ProxyCommand knock proxy -v --timeout 10 %h %p' ssh.maths.fr
  ssh -o 'ProxyCommand knock proxy --keep-open %h %p' ssh.maths.fr
${KEEP_OPEN_MORE}`,
    );
  for (const option of familyOptions()) command.addOption(option);
  return command.action(async (host: string, port: string, options: ProxyOptions) =>
    (await import('./commands/proxy.js')).runProxy(deps, host, port, options),
  );
}

const KEEP_OPEN_HELP =
  "while the session lives, knock again before the grant (the profile's open_for) runs out; knock its close_sequence when it ends (default: the profile's keep_open)";
const KEEP_OPEN_MORE = `
With keep_open (or --keep-open), knock knocks again at two thirds of the profile's
open_for (never more often than every 10 s) while the session lives, and knocks its
close_sequence when the session ends. A re-knock that fails is reported here and the
session goes on. A profile with one_time_sequences uses a line per re-knock: it is kept
open only with --keep-open.`;

/** `knock close HOST`: knocks the profile's close_sequence by hand. */
function closeCommand(deps: CliDeps, sub: SubcommandFactory) {
  const command = sub('close')
    .description(
      "knock HOST's close sequence (the profile's close_sequence): the server's Revoke door takes the grant back",
    )
    .argument('<host>', 'the host whose profile has close_sequence')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('-v, --verbose', 'say what happens, on stderr')
    .addHelpText(
      'after',
      `
Example:
  knock close ssh.maths.fr        knocks close_sequence = "9000,8000,7000" of its profile`,
    );
  for (const option of familyOptions()) command.addOption(option);
  return command.action(async (host: string, options: CloseOptions) =>
    (await import('./commands/close.js')).runClose(deps, host, options),
  );
}

function uiCommand(deps: CliDeps, sub: SubcommandFactory) {
  return sub('ui')
    .description('the interactive terminal UI: pick a profile, knock, see it open; edit profiles')
    .option(
      '-c, --config <file>',
      'profile file (default: $KNOCK_CONFIG, else ~/.config/knock/config.toml)',
    )
    .action(async (options: { config?: string }) =>
      (await import('./commands/ui.js')).runUi(deps, options.config),
    );
}

/** `knock import URI`: a profile from the knock:// URI of knock-server secret new. */
function importCommand(deps: CliDeps, sub: SubcommandFactory) {
  return sub('import')
    .description(
      'add a profile for a rotating door from the knock:// URI that knock-server secret new prints',
    )
    .argument('<uri>', "knock://HOST?door=…&secret=… (quote it: it holds '&')")
    .option(
      '-c, --config <file>',
      'profile file (default: $KNOCK_CONFIG, else ~/.config/knock/config.toml); made if missing',
    )
    .option('--force', 'replace the profile if the host has one')
    .option('--inline', 'keep the secret in the profile file (default: a 0600 file of its own)')
    .addHelpText(
      'after',
      `
The profile is added to the file through the profile editor: comments, order and the
other profiles stay as they are.

Examples:
  knock import 'knock://ssh.example.org?door=ssh&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&port=22'
  knock import --force -c ./lab.toml 'knock://lab1?door=ssh&secret=…'`,
    )
    .action(async (uri: string, options: ImportOptions) =>
      (await import('./commands/import.js')).runImport(deps, uri, options),
    );
}

/** Adds list, ots, ssh, proxy, close, ui, import and check-profiles to `program`, in the order `--help` lists them. */
export function addSubcommands(program: Command, deps: CliDeps, sub: SubcommandFactory): void {
  for (const make of [
    listCommand,
    otsCommand,
    sshCommand,
    proxyCommand,
    closeCommand,
    uiCommand,
    importCommand,
  ])
    program.addCommand(make(deps, sub));
  program.addCommand(checkProfilesCommand(deps, sub));
}
