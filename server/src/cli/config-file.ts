/**
 * Reading a knockd.conf: the one place knock-server turns a config path into a parsed
 * config (the daemon at start and reload, check, install-service, fw).
 */
import { readFile } from 'node:fs/promises';
import {
  DEFAULT_CONFIG_FILE,
  ExitCode,
  KnockError,
  errorText,
  formatIssue,
  hasErrors,
  parseConfig,
  type Issue,
  type KnockdConfig,
} from '@knock/shared';
import { loadRotatingSecrets } from '@knock/shared/node';

export interface LoadedConfig {
  config: KnockdConfig;
  issues: Issue[];
  /** The file's text (absent when it could not be read). */
  text?: string;
  /** Why the file could not be read (set exactly when `text` is absent). */
  readError?: unknown;
}

export interface LoadOptions {
  /**
   * Read the rotating doors' Sequence_Secret_File (default true). `fw` passes false: it
   * uses the ports, the Trusted_File and the backend, never a door's sequence.
   */
  secrets?: boolean;
}

/**
 * Reads and parses a config: the one config loader of knock-server (the daemon at start
 * and reload, check, install-service, fw). An unreadable file is one issue, not a throw.
 */
export async function loadConfig(
  path: string,
  read: (path: string) => Promise<string> = (p) => readFile(p, 'utf8'),
  options: LoadOptions = {},
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
          message: `cannot read the config file: ${code === 'ENOENT' ? 'no such file' : errorText(error)}`,
          hint:
            code === 'ENOENT'
              ? `create it, or point to another one with -c (default ${DEFAULT_CONFIG_FILE})`
              : 'check its permissions (knock-server usually runs as root)',
          file: path,
          line: 0,
          column: 0,
        },
      ],
      readError: error,
    };
  }
  const parsed = parseConfig(text, path);
  if (options.secrets === false) return { config: parsed.config, issues: parsed.issues, text };
  // Rotating doors' Sequence_Secret_File: read (and checked) here, for check and the daemon alike.
  const secrets = await loadRotatingSecrets(parsed.config, path);
  return { config: parsed.config, issues: [...parsed.issues, ...secrets], text };
}

export interface RequireOptions extends LoadOptions {
  read?: (path: string) => Promise<string>;
  /** Where each issue of a config with errors is printed, before the refusal. */
  stderr: (text: string) => void;
  /** The KnockError codes' prefix: `firewall` gives firewall.configUnreadable, .configInvalid. */
  scope: string;
  /** What to do about an unreadable file. */
  unreadableHint: string;
  /** After "PATH has errors" (e.g. ": nothing was changed"). */
  refusal?: string;
  /** A missing file is `undefined` instead of an error (fw without -c). */
  optional?: boolean;
}

/**
 * loadConfig for the tools that stop on a bad config (fw, cluster): an unreadable file or
 * one with errors is a KnockError with exit code 3, each issue printed first.
 */
export async function requireConfig(
  path: string,
  options: RequireOptions & { optional: true },
): Promise<KnockdConfig | undefined>;
export async function requireConfig(path: string, options: RequireOptions): Promise<KnockdConfig>;
export async function requireConfig(
  path: string,
  options: RequireOptions,
): Promise<KnockdConfig | undefined> {
  const loaded = await loadConfig(path, options.read, options);
  if (loaded.text === undefined) {
    const error = loaded.readError;
    const code = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
    if (options.optional === true && code === 'ENOENT') return undefined;
    throw new KnockError(
      `${options.scope}.configUnreadable`,
      `cannot read config ${path} (${code})`,
      {
        exitCode: ExitCode.config,
        hint: options.unreadableHint,
      },
    );
  }
  if (hasErrors(loaded.issues)) {
    for (const issue of loaded.issues) options.stderr(formatIssue(issue) + '\n');
    throw new KnockError(
      `${options.scope}.configInvalid`,
      `${path} has errors${options.refusal ?? ''}`,
      {
        exitCode: ExitCode.config,
        hint: `\`knock-server check -c ${path}\` lists them`,
      },
    );
  }
  return loaded.config;
}
