/**
 * `knock completion bash|zsh|fish|json`: the completion script for a shell, generated
 * from this very program's commands and options (so it lists what --help lists), or
 * the command tree as JSON (what the man page is generated from).
 */
import { Argument, type Command } from 'commander';
import type { Out, SubcommandFactory } from './deps.js';

export const COMPLETION_FORMATS = ['bash', 'zsh', 'fish', 'json'] as const;

export const completionHelp = (program: string) => `
Install (once per user; a new shell picks it up):
  bash  ${program} completion bash > ~/.local/share/bash-completion/completions/${program}
  zsh   ${program} completion zsh > "\${fpath[1]}/_${program}"   (or: source <(${program} completion zsh))
  fish  ${program} completion fish > ~/.config/fish/completions/${program}.fish
`;

/** The command tree of `root` (the whole program) as completion data, then rendered. */
export async function renderCompletion(root: Command, format: string): Promise<string> {
  const docs = await import('@knock/shared/cli-docs');
  const spec = docs.describeCommand(root, (cmd) => docs.helpEpilogue(cmd as Command));
  if (format === 'json') return JSON.stringify(spec, null, 2) + '\n';
  return docs.completionScript(spec, format as (typeof docs.SHELLS)[number]);
}

/** The `completion` subcommand; `program` is the root it describes. */
export function completionCommand(program: Command, sub: SubcommandFactory, stdout: Out): Command {
  return sub('completion')
    .description('print the shell completion script (bash, zsh, fish), or the commands as JSON')
    .addArgument(
      new Argument('<shell>', 'bash, zsh, fish, or json (the command tree)').choices(
        COMPLETION_FORMATS,
      ),
    )
    .addHelpText('after', completionHelp(program.name()))
    .action(async (shell: string) => {
      stdout.write(await renderCompletion(program, shell));
    });
}
