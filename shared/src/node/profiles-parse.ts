import { parseTOML, ParseError, type AST } from 'toml-eslint-parser';
import { closest } from '../did-you-mean.js';
import { errorText, type Issue } from '../errors.js';
import {
  PROFILE_KEYS,
  profileTable,
  tomlString,
  type InvalidProfile,
  type Profile,
} from '../profile.js';

export type { InvalidProfile } from '../profile.js';
import { parseSequence, type Knock } from '../sequence.js';
import { isRotatingKey, ROTATING_KEY_RULES, rotatingFromValues } from './rotating-profile-parse.js';

// Pure (no I/O): exported from @knock/shared/node (and '@knock/shared/profiles') only so that
// the TOML parser loads when profiles are needed, not with every import of '@knock/shared'.
//
// The parser is toml-eslint-parser: a complete TOML parser whose syntax tree gives the exact
// range of every table, key, value and comment. Every issue points at its key or value
// (file:line:col), and the same tree tells the profile editor (profile-edit.ts) which bytes
// belong to which profile, so a save changes only the profile it edits.

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

const MAX_DELAY_MS = 60_000;
const MAX_VERIFY_TIMEOUT_MS = 600_000;
/** One year: the longest grant the server's firewall holds. */
const MAX_OPEN_FOR = 31_536_000;

type Value = AST.TOMLContentNode;

interface Rule {
  check(value: Value): boolean;
  expected: string;
  example: string;
}

const isInteger = (min: number, max: number) => (value: Value) =>
  value.type === 'TOMLValue' &&
  value.kind === 'integer' &&
  value.bigint >= BigInt(min) &&
  value.bigint <= BigInt(max);

const isString = (value: Value): value is AST.TOMLStringValue =>
  value.type === 'TOMLValue' && value.kind === 'string';

/** One rule per key; looked up with Object.hasOwn (a key named `constructor` is just unknown). */
const KEY_RULES: Readonly<Record<string, Rule>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, Rule>, {
    sequence: {
      check: isString,
      expected: 'a string in knockd Sequence syntax',
      example: 'sequence = "1228,1227"',
    },
    one_time_sequences: {
      check: (v: Value) => isString(v) && v.value !== '',
      expected: 'the path of a one-time-sequence file',
      example: 'one_time_sequences = "~/.config/knock/host.ots"',
    },
    port: {
      check: isInteger(1, 65535),
      expected: 'a port number from 1 to 65535',
      example: 'port = 22',
    },
    family: {
      check: (v: Value) => isString(v) && ['any', 'ipv4', 'ipv6'].includes(v.value),
      expected: '"any", "ipv4" or "ipv6"',
      example: 'family = "any"',
    },
    delay_ms: {
      check: isInteger(0, MAX_DELAY_MS),
      expected: `a whole number of milliseconds from 0 to ${MAX_DELAY_MS}`,
      example: 'delay_ms = 200',
    },
    verify_timeout_ms: {
      check: isInteger(1, MAX_VERIFY_TIMEOUT_MS),
      expected: `a whole number of milliseconds from 1 to ${MAX_VERIFY_TIMEOUT_MS}`,
      example: 'verify_timeout_ms = 5000',
    },
    open_for: {
      check: isInteger(1, MAX_OPEN_FOR),
      expected: `a whole number of seconds from 1 to ${MAX_OPEN_FOR} (the server's Open_Timeout)`,
      example: 'open_for = 300',
    },
    close_sequence: {
      check: (v: Value) => isString(v) && v.value !== '',
      expected: "a string in knockd Sequence syntax (the server's Revoke door)",
      example: 'close_sequence = "9000,8000,7000"',
    },
    keep_open: {
      check: (v: Value) => v.type === 'TOMLValue' && v.kind === 'boolean',
      expected: 'true or false',
      example: 'keep_open = true',
    },
    // secret_file, secret, door, length, step, ports, protocols (rotating sequences)
    ...ROTATING_KEY_RULES,
  }),
);

const ruleFor = (key: string): Rule | undefined =>
  Object.hasOwn(KEY_RULES, key) ? KEY_RULES[key] : undefined;

function closestKey(key: string): string | undefined {
  if (key.length > 40) return undefined;
  return closest(key, PROFILE_KEYS, (text) => text.toLowerCase());
}

const keyName = (k: AST.TOMLBare | AST.TOMLQuoted): string =>
  k.type === 'TOMLBare' ? k.name : k.value;

/** A key as TOML would write it back: bare when it can be, else quoted. */
const showKey = (key: string): string => (/^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key));

/** A value as written in the file, shortened for a message. */
function showValue(text: string, value: Value): string {
  if (value.type === 'TOMLArray') return 'an array';
  if (value.type === 'TOMLInlineTable') return 'a table';
  const raw = text.slice(value.range[0], value.range[1]);
  return raw.length > 40 ? `${raw.slice(0, 37)}...` : raw;
}

// ---------------------------------------------------------------------------------------------

/** A key/value assigned to a profile: `key` is its first segment below the host. */
interface Entry {
  key: string;
  /** Segments after `key` (a dotted key inside the profile); empty for a plain key. */
  rest: string[];
  keyNode: AST.TOMLKey;
  value: Value;
  /** The key/value node, when the entry is a plain key directly in a `[hosts."NAME"]` table. */
  node?: AST.TOMLKeyValue;
}

interface HostDraft {
  host: string;
  line: number;
  column: number;
  entries: Entry[];
  /** Sub-tables `[hosts."NAME".x]` (unknown keys that are tables). */
  subTables: { key: string; node: AST.TOMLTable }[];
  /** The host's own `[hosts."NAME"]` table. */
  table?: AST.TOMLTable;
  /** A structural error (not a table, an array of tables…). */
  errors: { line: number; column: number; code: string; message: string; hint: string }[];
}

interface Collected {
  hosts: Map<string, HostDraft>;
  fileIssues: Omit<Issue, 'file'>[];
}

const pos = (node: { loc: AST.SourceLocation }) => ({
  line: node.loc.start.line,
  column: node.loc.start.column + 1,
});

/** Walks the syntax tree and sorts every key under `hosts` by host, in file order. */
function collect(text: string, program: AST.TOMLProgram, lineOffset: number): Collected {
  const hosts = new Map<string, HostDraft>();
  const fileIssues: Omit<Issue, 'file'>[] = [];
  const at = (node: { loc: AST.SourceLocation }) => {
    const p = pos(node);
    return { line: p.line + lineOffset, column: p.column };
  };
  const hostDraft = (host: string, node: { loc: AST.SourceLocation }): HostDraft => {
    let draft = hosts.get(host);
    if (!draft) {
      draft = { host, ...at(node), entries: [], subTables: [], errors: [] };
      hosts.set(host, draft);
    }
    return draft;
  };

  // A key/value whose full path (from the top) is `path`.
  const assign = (path: string[], keyNode: AST.TOMLKey, value: Value, node?: AST.TOMLKeyValue) => {
    const [root, host, key, ...rest] = path;
    if (root !== 'hosts') {
      fileIssues.push({
        severity: 'warning',
        code: 'profile.topLevel',
        ...at(keyNode),
        message: `unknown top-level key ${tomlString(root ?? '')} (ignored)`,
        hint: 'each profile is a table [hosts."HOST"]; nothing else belongs in the file',
      });
      return;
    }
    if (host === undefined) {
      if (value.type !== 'TOMLInlineTable') {
        fileIssues.push({
          severity: 'error',
          code: 'profile.hosts',
          ...at(value),
          message: '"hosts" must be a table of profiles',
          hint: 'write each profile as [hosts."HOST"]',
        });
        return;
      }
      for (const kv of value.body) assign(['hosts', ...kv.key.keys.map(keyName)], kv.key, kv.value);
      return;
    }
    const draft = hostDraft(host, keyNode);
    if (key === undefined) {
      if (value.type !== 'TOMLInlineTable') {
        draft.errors.push({
          ...at(value),
          code: 'profile.notTable',
          message: `${profileTable(host)} must be a table, not ${showValue(text, value)}`,
          hint: `write ${profileTable(host)} on its own line, then key = value lines`,
        });
        return;
      }
      for (const kv of value.body)
        assign(['hosts', host, ...kv.key.keys.map(keyName)], kv.key, kv.value);
      return;
    }
    draft.entries.push({ key, rest, keyNode, value, ...(node ? { node } : {}) });
  };

  for (const item of program.body[0].body) {
    if (item.type === 'TOMLKeyValue') {
      assign(item.key.keys.map(keyName), item.key, item.value);
      continue;
    }
    const path = item.resolvedKey.map(String);
    const [root, host, key] = path;
    if (root !== 'hosts') {
      fileIssues.push({
        severity: 'warning',
        code: 'profile.topLevel',
        ...at(item),
        message: `unknown table [${path.map(showKey).join('.')}] (ignored)`,
        hint: 'each profile is a table [hosts."HOST"]; nothing else belongs in the file',
      });
      continue;
    }
    if (item.kind === 'array') {
      const where = host === undefined ? undefined : hostDraft(host, item);
      const message = `[[${path.map(showKey).join('.')}]] is an array of tables`;
      const hint = 'write each profile once, as [hosts."HOST"]';
      if (where) where.errors.push({ ...at(item), code: 'profile.notTable', message, hint });
      else
        fileIssues.push({ severity: 'error', code: 'profile.hosts', ...at(item), message, hint });
      continue;
    }
    if (host === undefined) {
      // [hosts] with `NAME.key = …` or `NAME = { … }` lines.
      for (const kv of item.body) assign(['hosts', ...kv.key.keys.map(keyName)], kv.key, kv.value);
      continue;
    }
    const draft = hostDraft(host, item);
    if (key !== undefined) {
      draft.subTables.push({ key, node: item });
      continue;
    }
    draft.table = item;
    Object.assign(draft, at(item));
    for (const kv of item.body) {
      const [first = '', ...rest] = kv.key.keys.map(keyName);
      draft.entries.push({
        key: first,
        rest,
        keyNode: kv.key,
        value: kv.value,
        ...(rest.length === 0 ? { node: kv } : {}),
      });
    }
  }
  return { hosts, fileIssues };
}

/** The profile of one host, or its errors; warnings either way. */
function checkHost(
  text: string,
  draft: HostDraft,
  lineOffset: number,
): { profile?: Profile; issues: Omit<Issue, 'file'>[] } {
  const { host } = draft;
  const table = profileTable(host);
  const issues: Omit<Issue, 'file'>[] = draft.errors.map((e) => ({ severity: 'error', ...e }));
  // Not a table at all: nothing more to say about its keys.
  if (issues.length > 0 && draft.entries.length === 0) return { issues };
  const at = (node: { loc: AST.SourceLocation }) => {
    const p = pos(node);
    return { line: p.line + lineOffset, column: p.column };
  };
  const error = (node: { loc: AST.SourceLocation }, code: string, message: string, hint: string) =>
    issues.push({ severity: 'error', code, ...at(node), message, hint });

  if (host.trim() === '' || /\s/.test(host))
    issues.push({
      severity: 'error',
      code: 'profile.host',
      line: draft.line,
      column: draft.column,
      message: `${table}: "${host}" is not a host name or address`,
      hint: 'name the table after the host, e.g. [hosts."ssh.example.org"]',
    });

  const unknown = (node: { loc: AST.SourceLocation }, key: string) => {
    const guess = closestKey(key);
    issues.push({
      severity: 'warning',
      code: 'profile.unknownKey',
      ...at(node),
      message: `${table}: unknown key ${tomlString(key)} (ignored)`,
      hint: guess ? `did you mean ${guess}?` : `keys of a profile: ${PROFILE_KEYS.join(', ')}`,
    });
  };
  for (const sub of draft.subTables) unknown(sub.node, sub.key);

  const values = new Map<string, Value>();
  for (const entry of draft.entries) {
    const rule = ruleFor(entry.key);
    if (!rule) {
      unknown(entry.keyNode, entry.key);
      continue;
    }
    if (entry.rest.length > 0) {
      error(
        entry.keyNode,
        'profile.badValue',
        `${table}: ${entry.key} must be ${rule.expected}, not a table`,
        `e.g. ${rule.example}`,
      );
      continue;
    }
    if (!rule.check(entry.value)) {
      error(
        entry.value,
        'profile.badValue',
        `${table}: ${entry.key} must be ${rule.expected}, not ${showValue(text, entry.value)}`,
        `e.g. ${rule.example}`,
      );
      continue;
    }
    values.set(entry.key, entry.value);
  }

  const entryOf = (key: string) => draft.entries.find((e) => e.key === key);
  const hasSequence = entryOf('sequence') !== undefined;
  const hasOts = entryOf('one_time_sequences') !== undefined;
  const isRotating = draft.entries.some((e) => isRotatingKey(e.key));
  if (isRotating && (hasSequence || hasOts)) {
    const key = hasSequence ? 'sequence' : 'one_time_sequences';
    const entry = entryOf(key);
    issues.push({
      severity: 'error',
      code: 'profile.bothSequences',
      ...(entry ? at(entry.keyNode) : { line: draft.line, column: draft.column }),
      message: `${table} has both ${key} and a rotating secret`,
      hint: 'keep one of them',
    });
  } else if (!isRotating && hasSequence === hasOts) {
    const second = entryOf('one_time_sequences');
    issues.push({
      severity: 'error',
      code: hasSequence ? 'profile.bothSequences' : 'profile.noSequence',
      ...(hasSequence && second ? at(second.keyNode) : { line: draft.line, column: draft.column }),
      message: hasSequence
        ? `${table} has both sequence and one_time_sequences`
        : `${table} has neither sequence nor one_time_sequences`,
      hint: hasSequence
        ? 'keep one of them'
        : 'add sequence = "7000,8000,9000" (or one_time_sequences = "PATH")',
    });
  }

  // What the rotating keys mean together, once each has a value of its kind.
  const rotating =
    isRotating && !issues.some((i) => i.severity === 'error')
      ? rotatingFromValues(values)
      : undefined;
  for (const problem of rotating?.problems ?? []) {
    const entry = entryOf(problem.key);
    issues.push({
      severity: 'error',
      code: 'profile.rotating',
      ...(entry ? at(entry.keyNode) : { line: draft.line, column: draft.column }),
      message: `${table} ${problem.message}`,
      hint: problem.hint,
    });
  }

  const knocksOf = (key: 'sequence' | 'close_sequence'): Knock[] | undefined => {
    const value = values.get(key);
    if (!value || !isString(value)) return undefined;
    const start = at(value);
    // Point inside the string: after its opening quote(s).
    const quote = value.multiline ? 0 : 1;
    const parsed = parseSequence(value.value, {
      line: start.line,
      column: start.column + quote,
    });
    for (const issue of parsed.issues) {
      const { file: _, ...rest } = issue;
      issues.push({
        ...rest,
        message: `${table} ${key}: ${issue.message}`,
        line: start.line,
        column: value.multiline ? start.column : issue.column,
      });
    }
    return parsed.knocks;
  };
  const sequence = knocksOf('sequence');
  const closeSequence = knocksOf('close_sequence');
  if (issues.some((i) => i.severity === 'error')) return { issues };

  const str = (key: string) => {
    const v = values.get(key);
    return v && isString(v) ? v.value : undefined;
  };
  const int = (key: string) => {
    const v = values.get(key);
    return v?.type === 'TOMLValue' && v.kind === 'integer' ? Number(v.bigint) : undefined;
  };
  const profile: Profile = {
    host,
    family: (str('family') as Profile['family'] | undefined) ?? 'any',
    delayMs: int('delay_ms') ?? 0,
  };
  if (sequence) profile.sequence = sequence;
  const ots = str('one_time_sequences');
  if (ots !== undefined) profile.oneTimeSequences = ots;
  if (rotating?.rotating) profile.rotating = rotating.rotating;
  const port = int('port');
  if (port !== undefined) profile.port = port;
  const verify = int('verify_timeout_ms');
  if (verify !== undefined) profile.verifyTimeoutMs = verify;
  const openFor = int('open_for');
  if (openFor !== undefined) profile.openFor = openFor;
  if (closeSequence) profile.closeSequence = closeSequence;
  const keepOpen = values.get('keep_open');
  if (keepOpen?.type === 'TOMLValue' && keepOpen.kind === 'boolean')
    profile.keepOpen = keepOpen.value;
  return { profile, issues };
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
