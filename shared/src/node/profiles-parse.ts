import { parse as parseToml, TomlError } from 'smol-toml';
import * as v from 'valibot';
import type { Issue } from '../errors.js';
import {
  PROFILE_KEYS,
  profileTable,
  tomlString,
  type Profile,
  type ProfileKey,
} from '../profile.js';
import { parseSequence, type Knock } from '../sequence.js';
import { ROTATING_KEY_RULES, rotatingFromValues } from './rotating-profile-parse.js';

// Pure (no I/O): exported from @knock/shared/node only so that smol-toml and valibot load
// when profiles are needed, not with every import of '@knock/shared'.

export interface ProfilesParse {
  /** The valid profiles, in file order (a host with an error is left out). */
  profiles: Profile[];
  issues: Issue[];
}

const MAX_DELAY_MS = 60_000;
const MAX_VERIFY_TIMEOUT_MS = 600_000;

const integer = (min: number, max: number) =>
  v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

/** One schema per key, with what to write when the value is wrong. */
const KEY_RULES: Record<
  ProfileKey,
  { schema: v.GenericSchema; expected: string; example: string }
> = {
  sequence: {
    schema: v.string(),
    expected: 'a string in knockd Sequence syntax',
    example: 'sequence = "1228,1227"',
  },
  one_time_sequences: {
    schema: v.pipe(v.string(), v.minLength(1)),
    expected: 'the path of a one-time-sequence file',
    example: 'one_time_sequences = "~/.config/knock/host.ots"',
  },
  port: {
    schema: integer(1, 65535),
    expected: 'a port number from 1 to 65535',
    example: 'port = 22',
  },
  family: {
    schema: v.picklist(['any', 'ipv4', 'ipv6']),
    expected: '"any", "ipv4" or "ipv6"',
    example: 'family = "any"',
  },
  delay_ms: {
    schema: integer(0, MAX_DELAY_MS),
    expected: `milliseconds from 0 to ${MAX_DELAY_MS}`,
    example: 'delay_ms = 0',
  },
  verify_timeout_ms: {
    schema: integer(1, MAX_VERIFY_TIMEOUT_MS),
    expected: `milliseconds from 1 to ${MAX_VERIFY_TIMEOUT_MS}`,
    example: 'verify_timeout_ms = 5000',
  },
  ...ROTATING_KEY_RULES,
};

function describeValue(value: unknown): string {
  if (typeof value === 'string') return tomlString(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' && value !== null ? 'a table' : String(value);
}

function closest(key: string): string | undefined {
  const distance = (a: string, b: string): number => {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const current = [i];
      for (let j = 1; j <= b.length; j++) {
        current[j] = Math.min(
          (previous[j] ?? 0) + 1,
          (current[j - 1] ?? 0) + 1,
          (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
      }
      previous = current;
    }
    return previous[b.length] ?? 0;
  };
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of PROFILE_KEYS) {
    const d = distance(key.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

// ---------------------------------------------------------------------------------------------
// Where things are. smol-toml gives no positions for values, so find the table header and the
// key line in the text (covers the usual `[hosts."name"]` + `key = value` layout; anything
// else falls back to the header line, or line 0).

interface Located {
  header?: number;
  keys: Map<string, { line: number; valueColumn: number }>;
}

function unquoteKey(raw: string): string | undefined {
  const t = raw.trim();
  if (t.startsWith('"') && t.endsWith('"') && t.length >= 2) {
    try {
      return JSON.parse(t) as string;
    } catch {
      return undefined;
    }
  }
  if (t.startsWith("'") && t.endsWith("'") && t.length >= 2) return t.slice(1, -1);
  return /^[A-Za-z0-9_-]+$/.test(t) ? t : undefined;
}

function locate(text: string): Map<string, Located> {
  const hosts = new Map<string, Located>();
  let current: Located | undefined;
  text.split('\n').forEach((line, index) => {
    const header =
      /^\s*\[\s*hosts\s*\.\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*\]\s*(?:#.*)?$/.exec(
        line,
      );
    if (header) {
      const name = unquoteKey(header[1] ?? '');
      current = name === undefined ? undefined : { header: index + 1, keys: new Map() };
      if (name !== undefined && current && !hosts.has(name)) hosts.set(name, current);
      return;
    }
    if (/^\s*\[/.test(line)) {
      current = undefined;
      return;
    }
    const keyLine = /^(\s*)("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=(\s*)("?)/.exec(line);
    if (keyLine && current) {
      const key = unquoteKey(keyLine[2] ?? '');
      if (key !== undefined && !current.keys.has(key)) {
        const valueColumn = keyLine[0].length + 1;
        current.keys.set(key, { line: index + 1, valueColumn });
      }
    }
  });
  return hosts;
}

// ---------------------------------------------------------------------------------------------

/**
 * Parses the client profile file. Never throws: TOML syntax errors keep smol-toml's line
 * and column; schema errors name the `[hosts."NAME"]` table and the key.
 */
export function parseProfiles(text: string, file?: string): ProfilesParse {
  const issues: Issue[] = [];
  const profiles: Profile[] = [];
  const report = (
    code: string,
    line: number,
    column: number,
    message: string,
    hint: string,
    severity: Issue['severity'] = 'error',
  ) => {
    const issue: Issue = { severity, code, message, hint, line, column };
    if (file !== undefined) issue.file = file;
    issues.push(issue);
  };

  let document: Record<string, unknown>;
  try {
    document = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      const message = (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
      report(
        'profile.toml',
        error.line,
        error.column,
        `TOML syntax error: ${message}`,
        'fix the TOML syntax (https://toml.io); a profile looks like [hosts."example.org"] then sequence = "7000,8000"',
      );
    } else {
      report(
        'profile.toml',
        0,
        0,
        `cannot parse the TOML: ${error instanceof Error ? error.message : String(error)}`,
        'fix the TOML syntax (https://toml.io)',
      );
    }
    return { profiles, issues };
  }

  const where = locate(text);
  for (const key of Object.keys(document)) {
    if (key === 'hosts') continue;
    report(
      'profile.topLevel',
      0,
      0,
      `unknown top-level key "${key}"`,
      'each profile is a table [hosts."HOST"]; nothing else belongs in the file',
    );
  }
  const hosts = document.hosts;
  if (hosts === undefined) return { profiles, issues };
  if (typeof hosts !== 'object' || hosts === null || Array.isArray(hosts)) {
    report(
      'profile.hosts',
      0,
      0,
      '"hosts" must be a table of profiles',
      'write each profile as [hosts."HOST"]',
    );
    return { profiles, issues };
  }

  for (const [host, body] of Object.entries(hosts as Record<string, unknown>)) {
    const located = where.get(host);
    const headerLine = located?.header ?? 0;
    const table = profileTable(host);
    const at = (key: string) => located?.keys.get(key);
    const keyError = (code: string, key: string, message: string, hint: string) => {
      const spot = at(key);
      report(code, spot?.line ?? headerLine, spot ? spot.valueColumn : 0, message, hint);
    };

    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      report(
        'profile.notTable',
        headerLine,
        0,
        `${table} must be a table`,
        `write ${table} on its own line, then key = value lines`,
      );
      continue;
    }
    let ok = true;
    if (host.trim() === '' || /\s/.test(host)) {
      report(
        'profile.host',
        headerLine,
        0,
        `${table}: "${host}" is not a host name or address`,
        'name the table after the host, e.g. [hosts."ssh.example.org"]',
      );
      ok = false;
    }

    const values = body as Record<string, unknown>;
    for (const [key, value] of Object.entries(values)) {
      const rule = KEY_RULES[key as ProfileKey] as (typeof KEY_RULES)[ProfileKey] | undefined;
      if (!rule) {
        const guess = closest(key);
        keyError(
          'profile.unknownKey',
          key,
          `${table}: unknown key "${key}"`,
          guess ? `did you mean ${guess}?` : `keys of a profile: ${PROFILE_KEYS.join(', ')}`,
        );
        ok = false;
        continue;
      }
      if (!v.safeParse(rule.schema, value).success) {
        keyError(
          'profile.badValue',
          key,
          `${table}: ${key} must be ${rule.expected}, not ${describeValue(value)}`,
          `e.g. ${rule.example}`,
        );
        ok = false;
      }
    }

    const hasSequence = 'sequence' in values;
    const hasOts = 'one_time_sequences' in values;
    const rotating = ok ? rotatingFromValues(values) : undefined;
    for (const p of rotating?.problems ?? []) {
      keyError('profile.rotating', p.key, `${table} ${p.message}`, p.hint);
      ok = false;
    }
    if (rotating && (hasSequence || hasOts)) {
      keyError(
        'profile.bothSequences',
        hasSequence ? 'sequence' : 'one_time_sequences',
        `${table} has both ${hasSequence ? 'sequence' : 'one_time_sequences'} and a rotating secret`,
        'keep one of them',
      );
      ok = false;
    } else if (!rotating && hasSequence === hasOts) {
      report(
        hasSequence ? 'profile.bothSequences' : 'profile.noSequence',
        hasSequence ? (at('one_time_sequences')?.line ?? headerLine) : headerLine,
        0,
        hasSequence
          ? `${table} has both sequence and one_time_sequences`
          : `${table} has neither sequence nor one_time_sequences`,
        hasSequence
          ? 'keep one of them'
          : 'add sequence = "7000,8000,9000" (or one_time_sequences = "PATH")',
      );
      ok = false;
    }

    let sequence: Knock[] | undefined;
    if (hasSequence && typeof values.sequence === 'string') {
      const spot = at('sequence');
      const location = spot
        ? { line: spot.line, column: spot.valueColumn }
        : { line: headerLine, column: 1 };
      const parsed = parseSequence(
        values.sequence,
        file === undefined ? location : { ...location, file },
      );
      for (const issue of parsed.issues) {
        issues.push({
          ...issue,
          message: `${table} sequence: ${issue.message}`,
          // parseSequence gives column 0 without a line: keep the header line then.
          line: issue.line,
          column: spot ? issue.column : 0,
        });
        if (issue.severity === 'error') ok = false;
      }
      sequence = parsed.knocks;
    }
    if (!ok) continue;

    const profile: Profile = {
      host,
      family: (values.family as Profile['family'] | undefined) ?? 'any',
      delayMs: (values.delay_ms as number | undefined) ?? 0,
    };
    if (sequence) profile.sequence = sequence;
    if (typeof values.one_time_sequences === 'string')
      profile.oneTimeSequences = values.one_time_sequences;
    if (typeof values.port === 'number') profile.port = values.port;
    if (rotating?.rotating) profile.rotating = rotating.rotating;
    if (typeof values.verify_timeout_ms === 'number')
      profile.verifyTimeoutMs = values.verify_timeout_ms;
    profiles.push(profile);
  }
  issues.sort((a, b) => a.line - b.line);
  // File order: JS objects list integer-like keys ("10") first, the file may not.
  const order = (p: Profile) => where.get(p.host)?.header ?? Number.MAX_SAFE_INTEGER;
  profiles.sort((a, b) => order(a) - order(b));
  return { profiles, issues };
}
