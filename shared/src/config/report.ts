// How the config parser and its section modules report a problem: one signature for all
// of them (context.ts, revoke.ts, rotating-door.ts, cluster-options.ts).
import type { Issue } from '../errors.js';

/** Reports one problem at a line and column (1-based; 0: the whole line). */
export type Report = (
  code: string,
  line: number,
  column: number,
  message: string,
  hint?: string,
) => void;

/** Reports one problem of either severity. */
export type SeverityReport = (severity: Issue['severity'], ...rest: Parameters<Report>) => void;
