import { cTrim, leadingSpace } from './c-text.js';
import type { Issue } from './errors.js';

export type Protocol = 'tcp' | 'udp';

/** One knock: a packet to `port` over `protocol`. */
export interface Knock {
  port: number;
  protocol: Protocol;
}

export type Sequence = readonly Knock[];

/** knockd's SEQ_MAX: a longer sequence is rejected by knockd, so by us too (configs stay portable). */
export const MAX_SEQUENCE_LENGTH = 32;

/** Where a value sits in its file, so issues point at the right column. */
export interface Location {
  file?: string;
  line: number;
  /** 1-based column of the first character of the value. */
  column: number;
}

export interface SequenceParse {
  knocks: Knock[];
  issues: Issue[];
}

/** A space JavaScript's trim() and \s know but C's isspace() does not (U+00A0, U+2009, U+3000, BOM…). */
const UNICODE_SPACE = /(?![ \t\n\v\f\r])[\s\u200b]/u;

const describeSpace = (space: string): string => {
  const code = (space.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  return space === '\u00a0' ? 'a no-break space (U+00A0)' : `a Unicode space (U+${code})`;
};

/** Reports one issue about a sequence, at `column` (0-based) within its value. */
type Report = (
  severity: Issue['severity'],
  code: string,
  column: number,
  message: string,
  hint?: string,
) => void;

const reporter =
  (at: Location, issues: Issue[]): Report =>
  (severity, code, column, message, hint) => {
    const found: Issue = {
      severity,
      code,
      message,
      line: at.line,
      column: at.line > 0 ? at.column + column : 0,
    };
    if (at.file !== undefined) found.file = at.file;
    if (hint !== undefined) found.hint = hint;
    issues.push(found);
  };

/**
 * Parses knockd's `Sequence` syntax `port[:tcp|udp][,port[:proto]]…`.
 *
 * Accepts everything knockd reads as its author meant (blanks around elements,
 * `1:Udp`, ` 1 : udp `), and reports as errors what knockd silently misreads:
 * an empty element (`7000,8000,` gives knockd a port 0), a name (`ssh` is 0 to
 * knockd), a negative number (`-1` wraps to 65535), text after the port (knockd
 * has no inline comments), ports outside 1–65535. Never throws.
 */
export function parseSequence(value: string, at: Location = { line: 0, column: 1 }): SequenceParse {
  const knocks: Knock[] = [];
  const issues: Issue[] = [];
  const issue = reporter(at, issues);

  if (cTrim(value) === '') {
    issue(
      'error',
      'sequence.empty',
      0,
      'empty knock sequence',
      'list the ports to knock, e.g. 7000,8000:udp,9000',
    );
    return { knocks, issues };
  }

  let offset = 0;
  const elements = value.split(',');
  for (const element of elements) {
    const column = offset + leadingSpace(element);
    offset += element.length + 1;
    const knock = parseElement(element, column, issue);
    if (knock !== undefined) knocks.push(knock);
  }
  if (elements.length > MAX_SEQUENCE_LENGTH) {
    issue(
      'error',
      'sequence.tooLong',
      0,
      `too many ports in the sequence (${elements.length}; knockd allows at most ${MAX_SEQUENCE_LENGTH})`,
      'shorten the sequence',
    );
  }
  return { knocks, issues };
}

/** One `port[:proto]` element starting at `column`; undefined when it is wrong (reported). */
function parseElement(element: string, column: number, issue: Report): Knock | undefined {
  // knockd trims C blanks only: a no-break space (U+00A0) or any other Unicode space stays.
  const trimmed = cTrim(element);
  if (trimmed === '') {
    issue(
      'error',
      'sequence.emptyElement',
      column,
      'empty element in the sequence (a doubled or trailing comma): knockd reads it as port 0',
      'remove the extra comma',
    );
    return undefined;
  }
  const [rawPort = '', rawProtocol, ...rest] = trimmed.split(':');
  const port = elementPort(cTrim(rawPort), trimmed, column, issue);
  const protocol = elementProtocol(rawProtocol, trimmed, column, issue);
  if (rest.length > 0) {
    issue(
      'warning',
      'sequence.extraField',
      column,
      `"${trimmed}" has a third field ":${rest.join(':')}" that knockd ignores`,
      `write ${cTrim(rawPort)}:${protocol ?? 'tcp'}`,
    );
  }
  return port !== undefined && protocol !== undefined ? { port, protocol } : undefined;
}

/** The port of an element, or undefined with what knockd would make of it (reported). */
function elementPort(
  portText: string,
  trimmed: string,
  column: number,
  issue: Report,
): number | undefined {
  if (/^\d+$/.test(portText)) {
    const port = Number(portText);
    if (port >= 1 && port <= 65535) return port;
    issue(
      'error',
      'sequence.portRange',
      column,
      `port ${portText} is out of range`,
      'ports go from 1 to 65535',
    );
  } else if (/^-\d+$/.test(portText)) {
    issue(
      'error',
      'sequence.portNegative',
      column,
      `port ${portText} is negative: knockd wraps it to ${(65536 + (Number(portText) % 65536)) % 65536}`,
      'write a port from 1 to 65535',
    );
  } else if (UNICODE_SPACE.test(portText)) {
    const space = UNICODE_SPACE.exec(portText)?.[0] ?? ' ';
    issue(
      'error',
      'sequence.unicodeSpace',
      column + portText.indexOf(space),
      `"${portText}" contains ${describeSpace(space)}, which knockd does not treat as a blank: it reads port ${/^\d+/.exec(portText)?.[0] ?? '0'}`,
      'replace it with an ordinary space (or remove it)',
    );
  } else if (/^\d+[ \t\v\f\r]*#/.test(portText) || /^\d+[ \t\v\f\r]+[^ \t\v\f\r]/.test(portText)) {
    issue(
      'error',
      'sequence.trailingText',
      column,
      `unexpected text after port in "${trimmed}"`,
      'knockd.conf has no inline comments: put the comment on its own line, starting with #',
    );
  } else if (/^[A-Za-z][\w-]*$/.test(portText)) {
    issue(
      'error',
      'sequence.serviceName',
      column,
      `"${portText}" is not a port number: knockd reads it as port 0`,
      'write the port number (e.g. 22 for ssh)',
    );
  } else {
    issue(
      'error',
      'sequence.notNumeric',
      column,
      `"${portText}" is not a port number`,
      'write a port from 1 to 65535, optionally followed by :tcp or :udp',
    );
  }
  return undefined;
}

/** The protocol after the colon (tcp without one); undefined when it is neither tcp nor udp (reported). */
function elementProtocol(
  rawProtocol: string | undefined,
  trimmed: string,
  column: number,
  issue: Report,
): Protocol | undefined {
  if (rawProtocol === undefined) return 'tcp';
  const p = cTrim(rawProtocol).toLowerCase();
  if (p === 'tcp' || p === 'udp') return p;
  if (/^(tcp|udp)[ \t\v\f\r]*#/.test(p) || /^(tcp|udp)[ \t\v\f\r]+[^ \t\v\f\r]/.test(p)) {
    issue(
      'error',
      'sequence.trailingText',
      column,
      `unexpected text after protocol in "${trimmed}"`,
      'knockd.conf has no inline comments: put the comment on its own line, starting with #',
    );
  } else {
    issue(
      'error',
      'sequence.protocol',
      column,
      `unknown protocol "${cTrim(rawProtocol)}" in "${trimmed}"`,
      'use :tcp or :udp (or nothing, which means tcp)',
    );
  }
  return undefined;
}

/** The canonical text of a sequence: `1228,1227,7000:udp` (tcp is knockd's default, so it is left out). */
export function formatSequence(knocks: Sequence): string {
  return knocks.map((k) => (k.protocol === 'udp' ? `${k.port}:udp` : String(k.port))).join(',');
}

export const sameKnock = (a: Knock, b: Knock): boolean =>
  a.port === b.port && a.protocol === b.protocol;

export const sameSequence = (a: Sequence, b: Sequence): boolean =>
  a.length === b.length && a.every((k, i) => sameKnock(k, b[i] as Knock));
