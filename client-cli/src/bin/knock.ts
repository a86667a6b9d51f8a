// `knock`: binds the real effects, runs the command line, maps failures to an exit code.
import { CommanderError } from 'commander';
import { describeError } from '@knock/shared';
import { nodeDeps } from '../node-deps.js';
import { createProgram } from '../program.js';

try {
  await createProgram(nodeDeps()).parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // commander printed the message (or the help) already.
    process.exitCode = error.exitCode;
  } else {
    const { text, exitCode } = describeError(error);
    process.stderr.write(`knock: ${text}\n`);
    process.exitCode = exitCode;
  }
}
