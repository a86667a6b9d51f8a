export * from './firewall/index.js';
export { fwCommand, DEFAULT_PROTECTED, type FwDeps } from './cli/fw.js';
export { installServiceCommand, renderUnit, type ServiceDeps } from './cli/install-service.js';
export { createProgram, type ProgramDeps } from './cli/program.js';
export type { ServerOptions } from './cli/options.js';
export { Daemon, type DaemonDeps } from './daemon/daemon.js';
export { runServer, resolveSettings, type ServerDeps, type ProcessDeps } from './daemon/run.js';
export { Logger, FileSink, formatEntry, knockdTimestamp, type LogEntry } from './daemon/log.js';
