/**
 * The second pass: one host's collected keys (profile-collect.ts) checked against the
 * rules (profile-rules.ts) and together, then made into a Profile. Pure.
 */
import type { AST } from 'toml-eslint-parser';
import type { Issue } from '../errors.js';
import { PROFILE_KEYS, profileTable, tomlString, type Profile } from '../profile.js';
import { parseSequence, type Knock } from '../sequence.js';
import { pos, type Entry, type HostDraft } from './profile-collect.js';
import { closestKey, isString, ruleFor, showValue, type Value } from './profile-rules.js';
import {
  isRotatingKey,
  rotatingFromValues,
  type RotatingProblem,
} from './rotating-profile-parse.js';

type Located = { loc: AST.SourceLocation };

/** One host being checked: where its issues go and how a node's place is reported. */
interface HostCheck {
  text: string;
  draft: HostDraft;
  /** `[hosts."NAME"]`, as messages name the profile. */
  table: string;
  issues: Omit<Issue, 'file'>[];
  at: (node: Located) => { line: number; column: number };
  entryOf: (key: string) => Entry | undefined;
}

const hasErrors = (c: HostCheck) => c.issues.some((i) => i.severity === 'error');

/** The profile of one host, or its errors; warnings either way. */
export function checkHost(
  text: string,
  draft: HostDraft,
  lineOffset: number,
): { profile?: Profile; issues: Omit<Issue, 'file'>[] } {
  const { host } = draft;
  const issues: Omit<Issue, 'file'>[] = draft.errors.map((e) => ({ severity: 'error', ...e }));
  // Not a table at all: nothing more to say about its keys.
  if (issues.length > 0 && draft.entries.length === 0) return { issues };
  const c: HostCheck = {
    text,
    draft,
    table: profileTable(host),
    issues,
    at: (node) => {
      const p = pos(node);
      return { line: p.line + lineOffset, column: p.column };
    },
    entryOf: (key) => draft.entries.find((e) => e.key === key),
  };

  if (host.trim() === '' || /\s/.test(host))
    issues.push({
      severity: 'error',
      code: 'profile.host',
      line: draft.line,
      column: draft.column,
      message: `${c.table}: "${host}" is not a host name or address`,
      hint: 'name the table after the host, e.g. [hosts."ssh.example.org"]',
    });

  const values = checkValues(c);
  const isRotating = draft.entries.some((e) => isRotatingKey(e.key));
  checkSequenceKind(c, isRotating);
  // What the rotating keys mean together, once each has a value of its kind.
  const rotating = isRotating && !hasErrors(c) ? rotatingFromValues(values) : undefined;
  for (const problem of rotating?.problems ?? []) rotatingIssue(c, problem);

  const sequence = knocksOf(c, values, 'sequence');
  const closeSequence = knocksOf(c, values, 'close_sequence');
  if (hasErrors(c)) return { issues };
  return {
    profile: profileFrom(host, values, sequence, closeSequence, rotating?.rotating),
    issues,
  };
}

/** Each key against its rule: unknown keys are warnings, wrong values errors. The values that pass. */
function checkValues(c: HostCheck): Map<string, Value> {
  const error = (node: Located, message: string, hint: string) =>
    c.issues.push({ severity: 'error', code: 'profile.badValue', ...c.at(node), message, hint });
  const unknown = (node: Located, key: string) => {
    const guess = closestKey(key);
    c.issues.push({
      severity: 'warning',
      code: 'profile.unknownKey',
      ...c.at(node),
      message: `${c.table}: unknown key ${tomlString(key)} (ignored)`,
      hint: guess ? `did you mean ${guess}?` : `keys of a profile: ${PROFILE_KEYS.join(', ')}`,
    });
  };
  for (const sub of c.draft.subTables) unknown(sub.node, sub.key);

  const values = new Map<string, Value>();
  for (const entry of c.draft.entries) {
    const rule = ruleFor(entry.key);
    if (!rule) unknown(entry.keyNode, entry.key);
    else if (entry.rest.length > 0)
      error(
        entry.keyNode,
        `${c.table}: ${entry.key} must be ${rule.expected}, not a table`,
        `e.g. ${rule.example}`,
      );
    else if (!rule.check(entry.value))
      error(
        entry.value,
        `${c.table}: ${entry.key} must be ${rule.expected}, not ${showValue(c.text, entry.value)}`,
        `e.g. ${rule.example}`,
      );
    else values.set(entry.key, entry.value);
  }
  return values;
}

/** Exactly one of sequence, one_time_sequences and a rotating secret. */
function checkSequenceKind(c: HostCheck, isRotating: boolean): void {
  const { draft, table } = c;
  const hasSequence = c.entryOf('sequence') !== undefined;
  const hasOts = c.entryOf('one_time_sequences') !== undefined;
  if (isRotating && (hasSequence || hasOts)) {
    const key = hasSequence ? 'sequence' : 'one_time_sequences';
    const entry = c.entryOf(key);
    c.issues.push({
      severity: 'error',
      code: 'profile.bothSequences',
      ...(entry ? c.at(entry.keyNode) : { line: draft.line, column: draft.column }),
      message: `${table} has both ${key} and a rotating secret`,
      hint: 'keep one of them',
    });
  } else if (!isRotating && hasSequence === hasOts) {
    const second = c.entryOf('one_time_sequences');
    c.issues.push({
      severity: 'error',
      code: hasSequence ? 'profile.bothSequences' : 'profile.noSequence',
      ...(hasSequence && second
        ? c.at(second.keyNode)
        : { line: draft.line, column: draft.column }),
      message: hasSequence
        ? `${table} has both sequence and one_time_sequences`
        : `${table} has neither sequence nor one_time_sequences`,
      hint: hasSequence
        ? 'keep one of them'
        : 'add sequence = "7000,8000,9000" (or one_time_sequences = "PATH")',
    });
  }
}

function rotatingIssue(c: HostCheck, problem: RotatingProblem): void {
  const entry = c.entryOf(problem.key);
  c.issues.push({
    severity: 'error',
    code: 'profile.rotating',
    ...(entry ? c.at(entry.keyNode) : { line: c.draft.line, column: c.draft.column }),
    message: `${c.table} ${problem.message}`,
    hint: problem.hint,
  });
}

/** A sequence key's knocks, its problems pointing inside the string. */
function knocksOf(
  c: HostCheck,
  values: Map<string, Value>,
  key: 'sequence' | 'close_sequence',
): Knock[] | undefined {
  const value = values.get(key);
  if (!value || !isString(value)) return undefined;
  const start = c.at(value);
  // Point inside the string: after its opening quote(s).
  const quote = value.multiline ? 0 : 1;
  const parsed = parseSequence(value.value, {
    line: start.line,
    column: start.column + quote,
  });
  for (const issue of parsed.issues) {
    const { file: _, ...rest } = issue;
    c.issues.push({
      ...rest,
      message: `${c.table} ${key}: ${issue.message}`,
      line: start.line,
      column: value.multiline ? start.column : issue.column,
    });
  }
  return parsed.knocks;
}

/** A checked profile, its fields in the order a profile is always written. */
function profileFrom(
  host: string,
  values: Map<string, Value>,
  sequence: Knock[] | undefined,
  closeSequence: Knock[] | undefined,
  rotating: Profile['rotating'],
): Profile {
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
  if (rotating) profile.rotating = rotating;
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
  return profile;
}
