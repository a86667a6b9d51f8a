/**
 * `knock-server check [-c FILE]`: parse and validate a config the way the daemon
 * would load it, print every problem as `file:line:col: error: …` with a hint, and
 * exit 0 (valid; warnings allowed) or 1.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import {
  DEFAULT_CONFIG_FILE,
  ExitCode,
  KnockError,
  formatIssue,
  hasErrors,
  parseConfig,
  parseOtsFile,
  type Issue,
  type KnockdConfig,
} from '@knock/shared';
import { loadRotatingSecrets } from '@knock/shared/node';

export interface CheckDeps {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface LoadedConfig {
  config: KnockdConfig;
  issues: Issue[];
}

/** Reads and parses a config; an unreadable file is one issue, not a throw. */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      config: { options: { useSyslog: false }, doors: [] },
      issues: [
        {
          severity: 'error',
          code: 'config.unreadable',
          message: `cannot read the config file: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
          hint:
            code === 'ENOENT'
              ? `create it, or point to another one with -c (default ${DEFAULT_CONFIG_FILE})`
              : 'check its permissions (knock-server usually runs as root)',
          file: path,
          line: 0,
          column: 0,
        },
      ],
    };
  }
  const parsed = parseConfig(text, path);
  const secrets = await loadRotatingSecrets(parsed.config, path);
  return { config: parsed.config, issues: [...parsed.issues, ...secrets] };
}

/**
 * Problems with the one-time-sequence files a config names: the daemon needs each
 * to exist and hold at least one unused sequence (knockd refuses to start otherwise).
 */
export async function checkOneTimeFiles(
  config: KnockdConfig,
  configFile: string,
): Promise<Issue[]> {
  const issues: Issue[] = [];
  for (const door of config.doors) {
    if (door.oneTimeSequences === undefined) continue;
    const path = resolve(door.oneTimeSequences);
    try {
      const read = parseOtsFile(await readFile(path, 'utf8'), door.oneTimeSequences);
      issues.push(...read.issues);
      if (read.entries.length === 0 && !hasErrors(read.issues))
        issues.push({
          severity: 'error',
          code: 'config.ots.empty',
          message: `door [${door.name}]: the one-time-sequences file ${door.oneTimeSequences} has no unused sequence left`,
          hint: 'generate new ones: knock-server ots generate --count 50 --length 3 --force FILE',
          file: configFile,
          line: door.line,
          column: 0,
        });
    } catch (error) {
      issues.push({
        severity: 'error',
        code: 'config.ots.unreadable',
        message: `door [${door.name}]: cannot read the one-time-sequences file ${door.oneTimeSequences}: ${
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? 'no such file'
            : error instanceof Error
              ? error.message
              : String(error)
        }`,
        hint: 'create it (knock-server ots generate …) or fix One_Time_Sequences',
        file: configFile,
        line: door.line,
        column: 0,
      });
    }
  }
  return issues;
}

/** Everything `check` reports for one config file. */
export async function validateConfigFile(path: string): Promise<LoadedConfig> {
  const loaded = await loadConfig(path);
  if (!loaded.issues.some((i) => i.code === 'config.unreadable'))
    loaded.issues.push(...(await checkOneTimeFiles(loaded.config, path)));
  return loaded;
}

export function checkCommand(deps: CheckDeps): Command {
  return new Command('check')
    .description('validate a config file: print every problem with file:line:col; exit 0 or 1')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .allowExcessArguments(false)
    .action(async (opts: { config: string }) => {
      const { config, issues } = await validateConfigFile(opts.config);
      for (const issue of issues) deps.stdout(`${formatIssue(issue)}\n`);
      const errors = issues.filter((i) => i.severity === 'error').length;
      const warnings = issues.length - errors;
      if (errors > 0) {
        throw new KnockError(
          'check.invalid',
          `${opts.config}: ${errors} error${errors === 1 ? '' : 's'}${
            warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''
          }: knock-server would not start with this config`,
          { exitCode: ExitCode.failure },
        );
      }
      const doors = config.doors.length;
      deps.stdout(
        `${opts.config}: OK, ${doors} door${doors === 1 ? '' : 's'}${
          warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''
        }\n`,
      );
    });
}
