/**
 * `knock-server completion bash|zsh|fish|json`: the completion script for a shell,
 * generated from this very program's commands and options (so it lists what --help
 * lists, `fw` and every later subcommand included), or the command tree as JSON (what
 * the man page is generated from).
 */
import { Argument, Command } from 'commander';

export const COMPLETION_FORMATS = ['bash', 'zsh', 'fish', 'json'] as const;

const install = `
Install (the Debian package installs all three):
  bash  knock-server completion bash > /usr/share/bash-completion/completions/knock-server
  zsh   knock-server completion zsh > /usr/share/zsh/vendor-completions/_knock-server
  fish  knock-server completion fish > /usr/share/fish/vendor_completions.d/knock-server.fish
`;

/** The `completion` subcommand; `program` is the root it describes (read when it runs). */
export function completionCommand(program: Command, stdout: (text: string) => void): Command {
  return new Command('completion')
    .description('print the shell completion script (bash, zsh, fish), or the commands as JSON')
    .addArgument(
      new Argument('<shell>', 'bash, zsh, fish, or json (the command tree)').choices(
        COMPLETION_FORMATS,
      ),
    )
    .addHelpText('after', install)
    .action(async (shell: string) => {
      const docs = await import('@knock/shared/cli-docs');
      const spec = docs.describeCommand(program, (cmd) => docs.helpEpilogue(cmd as Command));
      stdout(
        shell === 'json'
          ? JSON.stringify(spec, null, 2) + '\n'
          : docs.completionScript(spec, shell as (typeof docs.SHELLS)[number]),
      );
    });
}
