/**
 * The options a subcommand runs with, wherever on the command line the user wrote them.
 *
 * `knock-server -c A fw -c B setup -c C`: each command parses the options that follow its
 * own name, so one setting can land on the program, on `fw` or on `setup`. commander's
 * optsWithGlobals() lets an ancestor's *default* win over a value the user typed after the
 * subcommand (`fw setup -c FILE` read /etc/knockd.conf). Here the value the user gave
 * nearest the leaf wins (a repeatable option keeps every value), and a default is used
 * only when no command in the chain was given the option.
 */
import type { Command } from 'commander';

const given = (command: Command, key: string): boolean => {
  const source = command.getOptionValueSource(key);
  return source !== undefined && source !== 'default';
};

/** The leaf's own options (by attribute name), each from the nearest command that was given it. */
export function leafOptions<T extends object>(leaf: Command): T {
  const chain: Command[] = [];
  for (let command: Command | null = leaf; command; command = command.parent) chain.push(command);
  const result: Record<string, unknown> = {};
  for (const option of leaf.options) {
    const key = option.attributeName();
    const from = chain.filter((command) => given(command, key));
    const value = (from[0] ?? leaf).getOptionValue(key) as unknown;
    // A repeatable option (`--port A` before the action, `--port B` after) keeps them all,
    // in the order written.
    if (Array.isArray(value) && from.length > 1)
      result[key] = from.reverse().flatMap((command) => command.getOptionValue(key) as unknown[]);
    else if (value !== undefined) result[key] = value;
  }
  return result as T;
}
