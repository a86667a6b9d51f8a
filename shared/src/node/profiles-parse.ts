import { parseTOML, ParseError, type AST } from 'toml-eslint-parser';
import { errorText, type Issue } from '../errors.js';
import { profileTable, type InvalidProfile, type Profile } from '../profile.js';
import { collect, type Collected, type HostDraft } from './profile-collect.js';
import { checkHost } from './profile-host.js';
import { isString } from './profile-rules.js';

export type { InvalidProfile } from '../profile.js';

// Pure (no I/O): exported from @knock/shared/node (and '@knock/shared/profiles') only so that
// the TOML parser loads when profiles are needed, not with every import of '@knock/shared'.
//
// The parser is toml-eslint-parser: a complete TOML parser whose syntax tree gives the exact
// range of every table, key, value and comment. Every issue points at its key or value
// (file:line:col), and the same tree tells the profile editor (profile-edit.ts) which bytes
// belong to which profile, so a save changes only the profile it edits.
//
// The passes: profile-collect.ts sorts the keys by host, profile-host.ts checks each host
// against the key rules (profile-rules.ts); this module parses, recovers after a syntax
// error table by table, and says where each profile is written (spans, for the editor).

export interface ProfilesParse {
  /** The valid profiles, in file order. */
  profiles: Profile[];
  /** Every problem, errors and warnings, sorted by line. */
  issues: Issue[];
  /** Profiles with errors, in file order: each is unusable on its own. */
  invalid: InvalidProfile[];
}

/** One key of a profile, with its byte ranges in the text. */
export interface KeySpan {
  /** First byte of the line the key starts on. */
  lineStart: number;
  /** Just after the newline that ends the line of its value (or the end of the text). */
  lineEnd: number;
  valueStart: number;
  valueEnd: number;
  /** The text between the key and the value (` = `), to write a new key the same way. */
  separator: string;
  /** The value is a single-line literal string ('…'). */
  literal: boolean;
}

/** Where a profile is written. */
export interface ProfileSpan {
  host: string;
  /**
   * Set when the profile is its own `[hosts."NAME"]` table (the only form the editor
   * changes); undefined for dotted keys or an inline table.
   */
  table?: {
    /** First byte of the header line. */
    start: number;
    /** Just after the newline ending the line of the table's last key (or its header). */
    end: number;
    /** The header's key (`hosts."NAME"`), to rename the profile. */
    keyStart: number;
    keyEnd: number;
    /** Leading white space of the table's last key line (new keys are indented the same). */
    indent: string;
  };
  /** Top-level keys of the profile (only single-segment keys of a header table). */
  keys: Map<string, KeySpan>;
}

export interface ProfileDocument extends ProfilesParse {
  /** False when the TOML does not parse: then no writer may touch the file. */
  syntaxOk: boolean;
  /** The first syntax error (when syntaxOk is false). */
  syntaxError?: Issue;
  /** Where each profile (valid or not) is written, by host. */
  spans: Map<string, ProfileSpan>;
  /** The line ending the file uses. */
  newline: '\n' | '\r\n';
}

function syntaxIssue(error: unknown, text: string, lineOffset: number): Omit<Issue, 'file'> {
  if (error instanceof ParseError) {
    // From the offset; an error at the end of the text (unterminated…) belongs to the
    // last line that has something on it, not to the empty line after it.
    let index = Math.min(Math.max(error.index, 0), text.length);
    if (index === text.length) index = text.trimEnd().length;
    const lineStart = text.lastIndexOf('\n', index - 1) + 1;
    const line = text.slice(0, lineStart).split('\n').length;
    return {
      severity: 'error',
      code: 'profile.toml',
      line: line + lineOffset,
      column: index - lineStart + 1,
      message: `TOML syntax error: ${error.message}`,
      hint: 'fix the TOML syntax (https://toml.io); a profile looks like [hosts."example.org"] then sequence = "7000,8000"',
    };
  }
  return {
    severity: 'error',
    code: 'profile.toml',
    line: 0,
    column: 0,
    message: `cannot parse the TOML: ${errorText(error)}`,
    hint: 'fix the TOML syntax (https://toml.io)',
  };
}

/** Byte ranges of every profile written as its own `[hosts."NAME"]` table. */
function spansOf(text: string, hosts: Map<string, HostDraft>): Map<string, ProfileSpan> {
  const lineStartOf = (offset: number) => text.lastIndexOf('\n', offset - 1) + 1;
  const lineEndOf = (offset: number) => {
    const nl = text.indexOf('\n', offset);
    return nl === -1 ? text.length : nl + 1;
  };
  const spans = new Map<string, ProfileSpan>();
  for (const draft of hosts.values()) {
    const keys = new Map<string, KeySpan>();
    for (const entry of draft.entries) {
      if (!entry.node || keys.has(entry.key)) continue;
      const { node } = entry;
      keys.set(entry.key, {
        lineStart: lineStartOf(node.range[0]),
        lineEnd: lineEndOf(node.range[1]),
        valueStart: node.value.range[0],
        valueEnd: node.value.range[1],
        separator: text.slice(node.key.range[1], node.value.range[0]),
        literal: isString(node.value) && node.value.style === 'literal' && !node.value.multiline,
      });
    }
    const span: ProfileSpan = { host: draft.host, keys };
    const table = draft.table;
    if (table) {
      const last = table.body[table.body.length - 1];
      const lastStart = lineStartOf(last ? last.range[0] : table.range[0]);
      span.table = {
        start: lineStartOf(table.range[0]),
        end: lineEndOf(last ? last.range[1] : table.key.range[1]),
        keyStart: table.key.range[0],
        keyEnd: table.key.range[1],
        indent: last ? (/^[ \t]*/.exec(text.slice(lastStart))?.[0] ?? '') : '',
      };
    }
    spans.set(draft.host, span);
  }
  return spans;
}

/**
 * Checks one parsed chunk of the file (the whole file, or, after a syntax error, the part
 * of one table) and adds its profiles and problems.
 */
function analyse(
  text: string,
  program: AST.TOMLProgram,
  lineOffset: number,
  out: { profiles: Profile[]; issues: Omit<Issue, 'file'>[]; invalid: InvalidProfile[] },
): Collected {
  const collected = collect(text, program, lineOffset);
  out.issues.push(...collected.fileIssues);
  for (const draft of collected.hosts.values()) {
    const { profile, issues } = checkHost(text, draft, lineOffset);
    out.issues.push(...issues);
    if (profile) out.profiles.push(profile);
    else
      out.invalid.push({
        host: draft.host,
        line: draft.line,
        issues: issues.filter((i) => i.severity === 'error') as Issue[],
      });
  }
  return collected;
}

/**
 * After a syntax error, reads the file table by table so that one broken table does not
 * hide the others: each chunk starts at a `[table]` header line (outside multi-line
 * strings) and is parsed on its own.
 */
function chunks(text: string): { start: number; line: number; text: string }[] {
  const lines = text.split('\n');
  const starts: { start: number; line: number }[] = [{ start: 0, line: 0 }];
  let offset = 0;
  let open: '"""' | "'''" | undefined;
  lines.forEach((line, i) => {
    if (open === undefined && /^\s*\[/.test(line) && i > 0) starts.push({ start: offset, line: i });
    for (const m of line.matchAll(/"""|'''/g)) {
      const quote = m[0] as '"""' | "'''";
      if (open === undefined) open = quote;
      else if (open === quote) open = undefined;
    }
    offset += line.length + 1;
  });
  return starts.map((s, i) => ({
    ...s,
    text: text.slice(s.start, starts[i + 1]?.start ?? text.length),
  }));
}

const HEADER = /^\s*\[\s*hosts\s*\.\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*\]/;

function headerHost(line: string): string | undefined {
  const raw = HEADER.exec(line)?.[1];
  if (raw === undefined) return undefined;
  if (raw.startsWith('"')) {
    try {
      return JSON.parse(raw) as string;
    } catch {
      return undefined;
    }
  }
  return raw.startsWith("'") ? raw.slice(1, -1) : raw;
}

/**
 * Parses the client profile file and says where everything is. Never throws. A profile with
 * an error is left out of `profiles` and listed in `invalid` with its issues; the others stay
 * usable, even after a TOML syntax error in another table.
 */
export function parseProfileDocument(text: string, file?: string): ProfileDocument {
  const out = {
    profiles: [] as Profile[],
    issues: [] as Omit<Issue, 'file'>[],
    invalid: [] as InvalidProfile[],
  };
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  const withFile = (issue: Omit<Issue, 'file'>): Issue =>
    file === undefined ? { ...issue } : { ...issue, file };
  let syntaxError: Issue | undefined;
  let spans = new Map<string, ProfileSpan>();

  let program: AST.TOMLProgram | undefined;
  try {
    program = parseTOML(text);
  } catch (error) {
    syntaxError = withFile(syntaxIssue(error, text, 0));
  }
  if (program) {
    const collected = analyse(text, program, 0, out);
    spans = spansOf(text, collected.hosts);
  } else if (syntaxError) {
    // Table by table: a chunk that parses gives its profiles; the chunk holding the error
    // (and any other that does not parse) makes only its own host unusable.
    const seen = new Map<string, number>();
    for (const chunk of chunks(text)) {
      const firstLine = chunk.line + 1;
      const lastLine = chunk.line + chunk.text.split('\n').length;
      const host = headerHost(chunk.text.split('\n')[0] ?? '');
      let problem: Omit<Issue, 'file'> | undefined;
      let parsed: AST.TOMLProgram | undefined;
      try {
        parsed = parseTOML(chunk.text);
      } catch (error) {
        problem = syntaxIssue(error, chunk.text, chunk.line);
      }
      if (!problem && syntaxError.line >= firstLine && syntaxError.line <= lastLine) {
        const { file: _, ...rest } = syntaxError;
        problem = rest;
      }
      if (host !== undefined && seen.has(host)) {
        problem ??= {
          severity: 'error',
          code: 'profile.duplicate',
          line: firstLine,
          column: 1,
          message: `${profileTable(host)} is defined twice (first at line ${seen.get(host)})`,
          hint: 'keep one table per host',
        };
      }
      if (host !== undefined && !seen.has(host)) seen.set(host, firstLine);
      if (problem) {
        out.issues.push(problem);
        if (host !== undefined) {
          // The duplicate's earlier copy is unusable too: which one is meant is unclear.
          const earlier = out.profiles.findIndex((p) => p.host === host);
          if (earlier >= 0) out.profiles.splice(earlier, 1);
          const known = out.invalid.find((i) => i.host === host);
          if (known) known.issues.push(problem as Issue);
          else
            out.invalid.push({
              host,
              line: seen.get(host) ?? firstLine,
              issues: [problem as Issue],
            });
        }
        continue;
      }
      if (parsed) {
        const before = out.profiles.length;
        analyse(chunk.text, parsed, chunk.line, out);
        // A host broken elsewhere stays broken.
        for (const p of out.profiles.splice(before))
          if (!out.invalid.some((i) => i.host === p.host)) out.profiles.push(p);
      }
    }
    if (!out.issues.some((i) => i.code === 'profile.toml' && i.line === syntaxError?.line)) {
      const { file: _, ...rest } = syntaxError;
      out.issues.push(rest);
    }
  }

  // One object per issue, shared by `issues` and `invalid`.
  const mapped = new Map<object, Issue>();
  const fileIssue = (issue: Omit<Issue, 'file'>): Issue => {
    let m = mapped.get(issue);
    if (!m) mapped.set(issue, (m = withFile(issue)));
    return m;
  };
  const byPlace = (a: Issue, b: Issue) => a.line - b.line || a.column - b.column;
  const issues = out.issues.map(fileIssue).sort(byPlace);
  const invalid = out.invalid
    .map((i) => ({ ...i, issues: i.issues.map(fileIssue).sort(byPlace) }))
    .sort((a, b) => a.line - b.line);
  return {
    profiles: out.profiles,
    issues,
    invalid,
    syntaxOk: program !== undefined,
    ...(syntaxError ? { syntaxError } : {}),
    spans,
    newline,
  };
}

/** The profiles of a file and every problem, each with file:line:col. Never throws. */
export function parseProfiles(text: string, file?: string): ProfilesParse {
  const { profiles, issues, invalid } = parseProfileDocument(text, file);
  return { profiles, issues, invalid };
}
