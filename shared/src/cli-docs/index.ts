// @knock/shared/cli-docs: completion scripts and man pages generated from a commander
// program's command tree (pure; no commander dependency, no I/O).
export {
  describeCommand,
  helpEpilogue,
  valueKind,
  walkCommands,
  type ArgumentSpec,
  type CommandLike,
  type CommandSpec,
  type HelpOutputLike,
  type OptionSpec,
  type ValueKind,
} from './spec.js';
export {
  SHELLS,
  bashCompletion,
  completionScript,
  fishCompletion,
  zshCompletion,
  type Shell,
} from './completion.js';
export {
  checkDirectiveTable,
  epilogueSections,
  markdownInline,
  markdownTable,
  renderConfigManPage,
  renderManPage,
  roffText,
  type ConfigManPageOptions,
  type DirectiveRow,
  type ManPageOptions,
} from './man.js';
