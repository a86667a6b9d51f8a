import type { Command } from 'commander';
import { ExitCode, KnockError, formatIssue } from '@knock/shared/core';
import type { CliDeps, SubcommandFactory } from '../deps.js';

export interface CheckProfilesOptions {
  config?: string;
  strict?: boolean;
}

const CONFIG_HELP = 'profile file (default: $KNOCK_CONFIG, else ~/.config/knock/config.toml)';

/** `knock check-profiles`: the commander declaration (registered by subcommands.ts). */
export function checkProfilesCommand(deps: CliDeps, sub: SubcommandFactory): Command {
  return sub('check-profiles')
    .description(
      'check the profile file and list every problem with file:line:col ' +
        '(a profile with errors is skipped; the others still work)',
    )
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--strict', 'fail on warnings too (unknown keys, keys outside [hosts."HOST"])')
    .addHelpText(
      'after',
      `
Exit status: 0 when every profile is usable, ${ExitCode.config} when a profile (or the file) has
errors, or with --strict when there is any warning; ${ExitCode.config} also when the file named with
-c does not exist.

Examples:
  knock check-profiles
  knock check-profiles -c ~/work/knock.toml --strict`,
    )
    .action(async (options: CheckProfilesOptions) => runCheckProfiles(deps, options));
}

/** Prints every problem of the profile file, then a one-line summary; sets the exit code. */
export async function runCheckProfiles(
  deps: CliDeps,
  options: CheckProfilesOptions,
): Promise<void> {
  const check = await deps.checkProfiles(
    options.config === undefined ? { env: deps.env } : { path: options.config, env: deps.env },
  );
  if (!check.exists) {
    if (options.config !== undefined)
      throw new KnockError('profile.missing', `the profile file ${check.path} does not exist`, {
        exitCode: ExitCode.config,
        hint: 'check the path given with -c',
      });
    deps.stdout.write(`no profile file at ${check.path}: nothing to check\n`);
    return;
  }
  for (const issue of check.issues) deps.stdout.write(`${formatIssue(issue)}\n`);
  const errors = check.issues.filter((i) => i.severity === 'error').length;
  const warnings = check.issues.length - errors;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const total = check.usable + check.invalid;
  const parts = [
    `${count(total, 'profile')}: ${check.usable} usable` +
      (check.invalid > 0 ? `, ${check.invalid} with errors (skipped)` : ''),
  ];
  if (check.issues.length > 0)
    parts.push(`${count(errors, 'error')}, ${count(warnings, 'warning')}`);
  deps.stdout.write(
    `${check.path}: ${check.issues.length === 0 ? 'OK, ' : ''}${parts.join('; ')}\n`,
  );
  if (errors > 0 || (options.strict === true && warnings > 0)) deps.setExitCode(ExitCode.config);
}
