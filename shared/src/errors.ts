import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/**
 * A problem found in some input (config, profile, one-time file, trusted list),
 * located precisely enough for an editor to jump to it. Parsers return these as
 * values; they never throw on bad input.
 */
export interface Issue {
  severity: 'error' | 'warning';
  /** Stable machine code, e.g. 'config.port.notNumeric'. */
  code: string;
  message: string;
  /** What to write instead, or what to do. */
  hint?: string;
  file?: string;
  /** 1-based; 0 when the issue concerns the whole file. */
  line: number;
  /** 1-based; 0 when the issue concerns the whole line. */
  column: number;
}

/** `file:line:col: error: message` plus an indented hint, like compilers print. */
export function formatIssue(issue: Issue): string {
  const where = [
    issue.file ?? '<input>',
    issue.line > 0 ? String(issue.line) : '',
    issue.column > 0 ? String(issue.column) : '',
  ]
    .filter((part) => part !== '')
    .join(':');
  const head = `${where}: ${issue.severity}: ${issue.message}`;
  return issue.hint ? `${head}\n  hint: ${issue.hint}` : head;
}

export const hasErrors = (issues: readonly Issue[]): boolean =>
  issues.some((i) => i.severity === 'error');

/**
 * The error every package throws for a failure the user can act on. It carries a
 * stable `code` (tests assert it) and the process exit code. Entry points print
 * `message` (and `hint`) on one or two lines: never a stack trace.
 */
export class KnockError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { exitCode?: ExitCodeValue; hint?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KnockError';
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.hint = options.hint;
  }
}

/** The message of any thrown value: an Error's `message`, anything else as a string. */
export const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** The text an entry point prints for any thrown value: one line (two with a hint), no stack. */
export function describeError(error: unknown): { text: string; exitCode: ExitCodeValue } {
  if (error instanceof KnockError) {
    return {
      text: error.hint ? `${error.message}\n  hint: ${error.hint}` : error.message,
      exitCode: error.exitCode,
    };
  }
  return {
    text: `internal error: ${errorText(error)} (this is a bug in knock; please report it)`,
    exitCode: ExitCode.internal,
  };
}
