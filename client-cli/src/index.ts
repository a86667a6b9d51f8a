// @knock/client-cli: the `knock` command line as a library (tests, the TUI, scripts).
export { createProgram } from './program.js';
export { runCli, isPlainKnock, SUBCOMMAND_NAMES } from './cli.js';
export type { CliDeps, Out, Profile, ProfileFile, TuiModule, ChildResult } from './deps.js';
export { parsePortSpec, resolvePortSpecs } from './args.js';
export { parseServices, lookupService } from './services.js';
export { parseSshConfig, knownHostsName, type SshTarget } from './ssh-config.js';
export { relay } from './relay.js';
