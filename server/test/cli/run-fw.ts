// Runs `knock-server fw …` / `install-service` in-process, as the real program wires them.
import { Command, CommanderError } from 'commander';
import { describeError } from '@knock/shared';
import { fwCommand, type FwDeps } from '../../src/cli/fw.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function seams(command: Command, out: string[], err: string[]): void {
  command.exitOverride();
  command.configureOutput({ writeOut: (t) => out.push(t), writeErr: (t) => err.push(t) });
  for (const sub of command.commands) seams(sub, out, err);
}

export async function runCommand(
  command: Command,
  args: string[],
  out: string[],
  err: string[],
): Promise<Run> {
  const root = new Command('knock-server').enablePositionalOptions().addCommand(command);
  seams(root, out, err);
  let code = 0;
  try {
    await root.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode === 0 ? 0 : 2;
    else {
      const described = describeError(error);
      err.push(described.text + '\n');
      code = described.exitCode;
    }
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

export function runFw(args: string[], deps: FwDeps = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const command = fwCommand({ ...deps, stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return runCommand(command, ['fw', ...args], out, err);
}
