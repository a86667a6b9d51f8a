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
  lintConfig,
  parseOtsFile,
  type Issue,
  type KnockdConfig,
} from '@knock/shared';
import { loadRotatingSecrets } from '@knock/shared/node';
import { leafOptions } from './leaf-options.js';
import { runStartChecks, type StartCheckDeps } from './start-checks.js';

export interface CheckDeps {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Files, names and interfaces as `check` sees them (tests); default: this host. */
  startChecks?: StartCheckDeps;
}

export interface LoadedConfig {
  config: KnockdConfig;
  issues: Issue[];
  /** The file's text (absent when it could not be read). */
  text?: string;
}

/** Reads and parses a config; an unreadable file is one issue, not a throw. */
export async function loadConfig(
  path: string,
  read: (path: string) => Promise<string> = (p) => readFile(p, 'utf8'),
): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await read(path);
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
  return { config: parsed.config, issues: [...parsed.issues, ...secrets], text };
}

/**
 * Problems with the one-time-sequence files a config names: the daemon needs each
 * to exist and hold at least one unused sequence (knockd refuses to start otherwise).
 */
export async function checkOneTimeFiles(
  config: KnockdConfig,
  configFile: string,
  readText: (path: string) => Promise<string> = (p) => readFile(p, 'utf8'),
): Promise<Issue[]> {
  const issues: Issue[] = [];
  for (const door of config.doors) {
    if (door.oneTimeSequences === undefined) continue;
    const path = resolve(door.oneTimeSequences);
    try {
      const read = parseOtsFile(await readText(path), door.oneTimeSequences);
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

export interface Validated extends LoadedConfig {
  /** Checks of the start that could not run here (need root, or another host). */
  notChecked: string[];
}

/**
 * Everything `check` reports for one config file: the parse, the one-time-sequence files,
 * what the start checks without root (start-checks.ts), and, for a config without errors,
 * what can never work (lintConfig).
 */
export async function validateConfigFile(
  path: string,
  deps: StartCheckDeps = {},
): Promise<Validated> {
  const read = deps.readFile ?? ((p: string) => readFile(p, 'utf8'));
  const loaded = await loadConfig(path, read);
  if (loaded.text === undefined) return { ...loaded, notChecked: [] };
  const parseErrors = hasErrors(loaded.issues);
  loaded.issues.push(...(await checkOneTimeFiles(loaded.config, path, read)));
  const start = await runStartChecks(loaded.config, loaded.text, path, deps);
  loaded.issues.push(...start.issues);
  if (!parseErrors) loaded.issues.push(...lintConfig(loaded.text, loaded.config, path));
  return { ...loaded, notChecked: start.notChecked };
}

export function checkCommand(deps: CheckDeps): Command {
  return new Command('check')
    .description('validate a config file: print every problem with file:line:col; exit 0 or 1')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--strict', 'exit 1 on warnings too (what can never work as written)')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Checks what the daemon checks when it starts and needs no root: the config, the
Trusted_File, One_Time_Sequences files, the LogFile and PidFile directories, the
Interface (exists, is up), the Firewall backend's tool. "OK" means knock-server will
start with this config; what needs root (opening the capture, setting up the
firewall) is named as not checked.

Examples:
  knock-server check                         /etc/knockd.conf
  knock-server check -c ./knockd.conf        another file; exit 1 on errors
  knock-server check --strict -c knockd.conf exit 1 on warnings too (for CI)`,
    )
    .action(async (_opts, command: Command) => {
      const opts = leafOptions<{ config: string; strict?: boolean }>(command);
      const { config, issues, notChecked } = await validateConfigFile(
        opts.config,
        deps.startChecks,
      );
      for (const issue of issues) deps.stdout(`${formatIssue(issue)}\n`);
      const errors = issues.filter((i) => i.severity === 'error').length;
      const warnings = issues.length - errors;
      if (errors === 0 && warnings > 0 && opts.strict === true)
        throw new KnockError(
          'check.warnings',
          `${opts.config}: ${warnings} warning${warnings === 1 ? '' : 's'} (--strict): fix them, or run check without --strict`,
          { exitCode: ExitCode.failure },
        );
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
      for (const what of notChecked) deps.stdout(`  not checked here: ${what}\n`);
    });
}
