// `knock`: binds the real effects, runs the command line, maps failures to an exit code.
import { describeError } from '@knock/shared/core';
import { runCli } from '../cli.js';
import { nodeDeps } from '../node-deps.js';

try {
  await runCli(process.argv, nodeDeps());
} catch (error) {
  const { text, exitCode } = describeError(error);
  process.stderr.write(`knock: ${text}\n`);
  process.exitCode = exitCode;
}
