/**
 * The command tree of a commander program as plain data: what the completion scripts
 * and the man pages are generated from, so they list exactly what `--help` lists.
 *
 * Pure: the program is read through commander's public Help API (the structural types
 * below), so @knock/shared needs no dependency on commander.
 */

/** What a value of an option or argument is, for completion. */
export type ValueKind = 'none' | 'file' | 'host' | 'choice' | 'any';

export interface OptionSpec {
  /** As `--help` shows them: `-c, --config <file>`. */
  flags: string;
  short?: string;
  long?: string;
  description: string;
  /** `<value>` (required) or `[value]` (optional); 'none' for a flag. */
  takes: 'none' | 'required' | 'optional';
  /** The value's name without brackets (`file`), when it takes one. */
  valueName?: string;
  kind: ValueKind;
  choices?: string[];
  /** Must be given (commander's requiredOption). */
  mandatory: boolean;
}

export interface ArgumentSpec {
  name: string;
  description: string;
  required: boolean;
  variadic: boolean;
  kind: ValueKind;
  choices?: string[];
}

export interface CommandSpec {
  name: string;
  description: string;
  /** The usage line after the command path: `[options] HOST [PORT[:PROTO]...]`. */
  usage: string;
  options: OptionSpec[];
  arguments: ArgumentSpec[];
  commands: CommandSpec[];
  /** The text --help prints after the generated part (examples, exit codes, …). */
  epilogue?: string;
}

// The parts of commander's API read here (commander 14's Command, Option, Argument, Help).
export interface OptionLike {
  flags: string;
  description: string;
  required: boolean;
  optional: boolean;
  mandatory: boolean;
  short?: string | undefined;
  long?: string | undefined;
  argChoices?: string[] | undefined;
}
export interface ArgumentLike {
  description: string;
  required: boolean;
  variadic: boolean;
  argChoices?: string[] | undefined;
  name(): string;
}
export interface CommandLike {
  name(): string;
  description(): string;
  usage(): string;
  createHelp(): HelpLike;
}
export interface HelpLike {
  visibleCommands(cmd: never): CommandLike[];
  visibleOptions(cmd: never): OptionLike[];
  visibleArguments(cmd: never): ArgumentLike[];
}

const FILE_WORDS = /^(file|files|path|dir|directory|config|pidfile|logfile)$/i;
const HOST_WORDS = /^(host|address|addr|hostname)$/i;

/** What a value named `name` is: a file, a host, one of `choices`, or anything. */
export function valueKind(name: string | undefined, choices?: readonly string[]): ValueKind {
  if (choices && choices.length > 0) return 'choice';
  if (name === undefined) return 'none';
  const word = name.replace(/[.…]+$/, '');
  if (FILE_WORDS.test(word)) return 'file';
  if (HOST_WORDS.test(word)) return 'host';
  return 'any';
}

function optionSpec(option: OptionLike): OptionSpec {
  const match = /<([^>]+)>|\[(.+)\]$/.exec(option.flags);
  const value = match?.[1] ?? match?.[2];
  const takes = option.required ? 'required' : option.optional ? 'optional' : 'none';
  const spec: OptionSpec = {
    flags: option.flags,
    description: option.description,
    takes,
    kind: takes === 'none' ? 'none' : valueKind(value, option.argChoices),
    mandatory: option.mandatory,
  };
  if (option.short) spec.short = option.short;
  if (option.long) spec.long = option.long;
  if (value !== undefined && takes !== 'none') spec.valueName = value;
  if (option.argChoices) spec.choices = [...option.argChoices];
  return spec;
}

function argumentSpec(argument: ArgumentLike): ArgumentSpec {
  const spec: ArgumentSpec = {
    name: argument.name(),
    description: argument.description,
    required: argument.required,
    variadic: argument.variadic,
    kind: valueKind(argument.name(), argument.argChoices),
  };
  if (argument.argChoices) spec.choices = [...argument.argChoices];
  return spec;
}

/**
 * The tree under `command`, as `--help` shows it (hidden options and commands left out).
 * `epilogue(cmd)` may supply the text each command's help prints after the generated part.
 */
export function describeCommand(
  command: CommandLike,
  epilogue?: (cmd: CommandLike) => string | undefined,
): CommandSpec {
  const help = command.createHelp();
  const self = command as never;
  const spec: CommandSpec = {
    name: command.name(),
    description: command.description(),
    usage: command.usage(),
    options: help.visibleOptions(self).map(optionSpec),
    arguments: help.visibleArguments(self).map(argumentSpec),
    commands: help
      .visibleCommands(self)
      // commander's implicit `help` command has no own tree to walk.
      .map((sub) => describeCommand(sub, epilogue)),
  };
  const after = epilogue?.(command)?.trim();
  if (after) spec.epilogue = after;
  return spec;
}

/** Every command of the tree with its path from the root (the root's path is []). */
export function walkCommands(
  spec: CommandSpec,
  path: string[] = [],
): { path: string[]; command: CommandSpec }[] {
  return [
    { path, command: spec },
    ...spec.commands.flatMap((sub) => walkCommands(sub, [...path, sub.name])),
  ];
}

/** The output side of commander's Command, to capture what `--help` prints. */
export interface HelpOutputLike {
  helpInformation(): string;
  outputHelp(): void;
  configureOutput(): { writeOut?: (text: string) => void };
  configureOutput(settings: { writeOut?: (text: string) => void }): unknown;
}

/**
 * What `--help` of `command` prints after commander's generated part (addHelpText
 * 'after': examples, exit codes …), or undefined. Output is captured, not printed.
 */
export function helpEpilogue(command: HelpOutputLike): string | undefined {
  const saved = command.configureOutput();
  let text = '';
  command.configureOutput({ ...saved, writeOut: (t: string) => void (text += t) });
  try {
    command.outputHelp();
  } finally {
    command.configureOutput(saved);
  }
  const body = command.helpInformation();
  const at = text.indexOf(body);
  const after = at < 0 ? '' : text.slice(at + body.length);
  return after.trim() === '' ? undefined : after;
}
