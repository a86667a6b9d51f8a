// What one run of parseConfig builds and reports into, passed explicitly to the section
// modules (options-section.ts, door-section.ts, door-checks.ts, values.ts).
import type { Issue } from '../errors.js';
import { newClusterParseState, type ClusterParseState } from './cluster-options.js';
import type { Report, SeverityReport } from './report.js';
import type { RevokeRef } from './revoke.js';
import type { Door, Options } from './types.js';

/** One directive as read: its canonical name, its value (trimmed), where the value starts. */
export interface Directive {
  readonly name: string;
  readonly value: string;
  readonly line: number;
  readonly column: number;
}

/** A door being read, with the lines of the directives its final checks look back at. */
export interface DoorState {
  door: Door;
  sequenceLine?: number;
  otsLine?: number;
  seqTimeoutLine?: number;
  cmdTimeoutLine?: number;
  stopCommandLine?: number;
  stopCommand6Line?: number;
  openTimeoutLine?: number;
  /** Set even when the value had errors: what depends on it is not reported again. */
  openPortsLine?: number;
  /** A One_Time_Sequences line whose value had errors (no "empty knock sequence" then). */
  otsFailedLine?: number;
  banLine?: number;
}

export interface ParseContext {
  /** The file name issues carry, if any. */
  readonly file: string | undefined;
  /** Every problem found so far, in the order found. */
  readonly issues: Issue[];
  readonly options: Options;
  readonly doors: Door[];
  /** One per door, same order. */
  readonly states: DoorState[];
  readonly cluster: ClusterParseState;
  /** Door name → first door of that name: one lookup per header, however many doors. */
  readonly byName: Map<string, Door>;
  /** The Revoke lines of each door, resolved once every door is known. */
  readonly revokes: Map<Door, RevokeRef[]>;
  /**
   * 'none' before the first header; knockd keeps the last section name, so several
   * [options] sections and doors may alternate.
   */
  section: 'none' | 'options' | DoorState;
  readonly report: SeverityReport;
  readonly error: Report;
  readonly warning: Report;
}

export function newParseContext(file?: string): ParseContext {
  const issues: Issue[] = [];
  const report: SeverityReport = (severity, code, line, column, message, hint) => {
    const issue: Issue = { severity, code, message, line, column };
    if (hint !== undefined) issue.hint = hint;
    if (file !== undefined) issue.file = file;
    issues.push(issue);
  };
  return {
    file,
    issues,
    options: { useSyslog: false },
    doors: [],
    states: [],
    cluster: newClusterParseState(),
    byName: new Map(),
    revokes: new Map(),
    section: 'none',
    report,
    error: (code, line, column, message, hint) =>
      report('error', code, line, column, message, hint),
    warning: (code, line, column, message, hint) =>
      report('warning', code, line, column, message, hint),
  };
}
