/**
 * The `knock-server` entry point: binds the real dependencies, runs the command line, and
 * turns every outcome into an exit code. Errors print one or two lines, never a stack.
 */
import { CommanderError } from 'commander';
import { ExitCode, describeError } from '@knock/shared';
import { createProgram } from '../cli/program.js';
import { metricsCommand, statusCommand } from '../cli/status.js';
import { fwCommand } from '../cli/fw.js';
import { installServiceCommand } from '../cli/install-service.js';
import { clusterCommand, clusterFirewallForCli } from '../cluster/index.js';
import { runServer } from '../daemon/run.js';
import { serverVersion, systemDeps } from '../daemon/system.js';

const stdout = (text: string) => void process.stdout.write(text);
const stderr = (text: string) => void process.stderr.write(text);

// Last resort: a bug anywhere still ends with one line, not a stack trace.
const fatal = (error: unknown) => {
  stderr(`knock-server: ${describeError(error).text}\n`);
  process.exit(ExitCode.internal);
};
process.on('uncaughtException', fatal);
// -v into a pipe whose reader went away (`knock-server -v | head`): keep running.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
process.on('unhandledRejection', fatal);

const program = createProgram({
  version: serverVersion(),
  stdout,
  stderr,
  runServer: async (options) =>
    runServer(
      options,
      {
        stdout,
        stderr,
        env: process.env,
        selfArgv: [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
        signals: process,
      },
      await systemDeps(process.env, options.captureBuffer),
    ),
  extraCommands: [
    fwCommand({
      stdout,
      stderr,
      wrapFirewall: clusterFirewallForCli({ stderr, version: serverVersion() }),
    }),
    installServiceCommand({ stdout, stderr }),
    statusCommand({ stdout, stderr, isTTY: process.stdout.isTTY }),
    metricsCommand({ stdout, stderr }),
    clusterCommand({ stdout, stderr, version: serverVersion() }),
  ],
});

let ranDaemon = false;
program.hook('preAction', (_command, action) => {
  ranDaemon = action === program;
});

try {
  await program.parseAsync(process.argv);
  process.exitCode = ExitCode.ok;
} catch (error) {
  if (error instanceof CommanderError) {
    // commander has printed its message already.
    process.exitCode = error.exitCode;
  } else {
    const { text, exitCode } = describeError(error);
    stderr(`knock-server: ${text}\n`);
    process.exitCode = exitCode;
  }
}

// The daemon has closed everything it opened; if a handle still lingers (a library's
// socket, a stuck child), do not hang around after "shutting down".
if (ranDaemon) setTimeout(() => process.exit(), 3000).unref();
