import type { CliDeps } from './deps.js';
import { runKnock } from './commands/knock.js';

/**
 * First words that commander reads as a subcommand: createProgram's. (It adds no implicit
 * `help` command to a program that has an action: `knock help` knocks a host named help.)
 */
export const SUBCOMMAND_NAMES: ReadonlySet<string> = new Set([
  'list',
  'ots',
  'ssh',
  'proxy',
  'close',
  'ui',
  'check-profiles',
  'completion',
  'import',
]);

/**
 * A plain `knock HOST [PORT…]`: no word starts with '-' (no option, no `--`) and the
 * first is not a subcommand. commander hands such a line to the root action unchanged
 * (host, ports, no options), so runCli calls that action itself.
 */
export function isPlainKnock(args: readonly string[]): args is [string, ...string[]] {
  const [first] = args;
  return (
    first !== undefined && !SUBCOMMAND_NAMES.has(first) && args.every((a) => !a.startsWith('-'))
  );
}

/**
 * Runs `knock` on `argv` (process.argv: node, script, arguments). A plain knock skips
 * commander, whose loading is most of what a knock costs after Node's own start;
 * everything else goes through createProgram. Errors are thrown, except commander's:
 * commander has printed those already, so they only set the exit code.
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<void> {
  const args = argv.slice(2);
  if (isPlainKnock(args)) {
    const [host, ...ports] = args;
    await runKnock(deps, host, ports, {});
    return;
  }
  const [{ createProgram }, { CommanderError }] = await Promise.all([
    import('./program.js'),
    import('commander'),
  ]);
  try {
    await createProgram(deps).parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    deps.setExitCode(error.exitCode);
  }
}
