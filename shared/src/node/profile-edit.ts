import { formatIssue, KnockError, type Issue } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import {
  PROFILE_KEYS,
  profileEntries,
  profileTable,
  profileTableText,
  sameProfile,
  tomlString,
  type Profile,
  type ProfileKey,
} from '../profile.js';
import { parseProfileDocument, type ProfileDocument } from './profiles-parse.js';

// The one profile editor every writer uses (the TUI, the tray's profile window). Pure: text in,
// text out. It changes only the bytes of the profile it edits, found in the syntax tree of
// toml-eslint-parser: a changed value is replaced where it stands (the key, the spacing and a
// trailing comment stay), a new key is added after the table's last key, a removed key loses
// its line, a new profile is appended, a deleted profile loses its table. Comments, blank
// lines, the order, other profiles and keys knock does not know are never touched, and
// defaults the user did not write (family = "any", delay_ms = 0) are never added.

/** One change to the profile file. */
export type ProfileChange =
  | {
      type: 'put';
      /** The host of the profile being edited (it may be renamed); null adds a profile. */
      original: string | null;
      profile: Profile;
      /** The profile as the editor read it: if the file now says otherwise, the change is refused. */
      previous?: Profile;
    }
  | { type: 'delete'; host: string; previous?: Profile };

export interface EditOptions {
  /** The file's name, for messages. */
  file?: string;
  /** Home directory: `~/…` and `$HOME/…` paths are the same path. */
  home?: string;
}

const refuse = (
  code: string,
  message: string,
  hint: string,
  exitCode: ExitCodeValue = ExitCode.config,
) => new KnockError(code, message, { exitCode, hint });

const norm = (host: string) => host.toLowerCase().replace(/\.$/, '');

function expandTilde(path: string | undefined, home: string | undefined): string | undefined {
  if (path === undefined || home === undefined) return path;
  return path === '~' ? home : path.startsWith('~/') ? `${home}${path.slice(1)}` : path;
}

/** The profile with each of its paths (one-time file, secret file) changed by `change`. */
function withPaths(p: Profile, change: (path: string) => string): Profile {
  let q = p;
  if (q.oneTimeSequences !== undefined) q = { ...q, oneTimeSequences: change(q.oneTimeSequences) };
  if (q.rotating?.secretFile !== undefined)
    q = { ...q, rotating: { ...q.rotating, secretFile: change(q.rotating.secretFile) } };
  return q;
}

/** The profile with `~` expanded, so `~/a.ots` and `/home/ana/a.ots` compare equal. */
function expanded(p: Profile, home: string | undefined): Profile {
  return withPaths(p, (path) => expandTilde(path, home) ?? path);
}

/** The profile as it should be written: a path under $HOME as `~/…`. */
function contracted(p: Profile, home: string | undefined): Profile {
  if (home === undefined) return p;
  return withPaths(p, (path) =>
    path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path,
  );
}

const same = (a: Profile, b: Profile, home: string | undefined) =>
  sameProfile(expanded(a, home), expanded(b, home));

/** Keys with a default: a changed value stays on the user's line; an absent key stays absent. */
const DEFAULTS: Partial<Record<ProfileKey, string>> = {
  family: '"any"',
  delay_ms: '0',
  keep_open: 'false',
  protocols: '"tcp"',
};

interface Splice {
  start: number;
  end: number;
  text: string;
}

function splice(text: string, edits: Splice[]): string {
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}

/** A string value in the style it had: a literal '…' stays literal when it can. */
function valueText(raw: string, literal: boolean): string {
  if (!literal || !raw.startsWith('"')) return raw;
  const value = JSON.parse(raw) as string;
  const plain = [...value].every((c) => c !== "'" && c >= ' ' && c !== '\u007f');
  return plain ? `'${value}'` : raw;
}

const where = (file: string | undefined): string => file ?? 'the profile file';

function findHost(doc: ProfileDocument, host: string): string | undefined {
  const hosts = [...doc.profiles.map((p) => p.host), ...doc.invalid.map((i) => i.host)];
  return hosts.find((h) => h === host) ?? hosts.find((h) => norm(h) === norm(host));
}

function editTable(
  text: string,
  doc: ProfileDocument,
  host: string,
  current: Profile,
  next: Profile,
  options: EditOptions,
): string {
  const file = where(options.file);
  const span = doc.spans.get(host);
  const table = span?.table;
  if (!span || !table)
    throw refuse(
      'profile.edit.form',
      `the profile for ${host} in ${file} is not written as a ${profileTable(host)} table`,
      `edit it by hand, or rewrite it as ${profileTable(host)} followed by key = value lines`,
    );
  const edits: Splice[] = [];
  if (next.host !== host)
    edits.push({
      start: table.keyStart,
      end: table.keyEnd,
      text: `hosts.${tomlString(next.host)}`,
    });

  const have = new Map(profileEntries(contracted(current, options.home)));
  const want = new Map(profileEntries(contracted(next, options.home)));
  const currentExpanded = new Map(profileEntries(expanded(current, options.home)));
  const nextExpanded = new Map(profileEntries(expanded(next, options.home)));
  const added: string[] = [];
  for (const key of PROFILE_KEYS) {
    if (currentExpanded.get(key) === nextExpanded.get(key)) continue;
    const spot = span.keys.get(key);
    const wanted = want.get(key) ?? DEFAULTS[key];
    if (spot) {
      if (wanted === undefined) edits.push({ start: spot.lineStart, end: spot.lineEnd, text: '' });
      else
        edits.push({
          start: spot.valueStart,
          end: spot.valueEnd,
          text: valueText(wanted, spot.literal),
        });
    } else if (want.has(key)) {
      added.push(`${table.indent}${key} = ${want.get(key)}`);
    } else if (have.has(key)) {
      // The file has it in a form knock does not edit (cannot happen for a valid table).
      throw refuse(
        'profile.edit.form',
        `cannot change ${key} of ${host} in ${file}`,
        'edit it by hand',
      );
    }
  }
  if (added.length > 0) {
    const nl = doc.newline;
    const atEnd = table.end === text.length && !text.endsWith('\n');
    edits.push({
      start: table.end,
      end: table.end,
      text: atEnd ? added.map((l) => `${nl}${l}`).join('') : added.map((l) => `${l}${nl}`).join(''),
    });
  }
  return splice(text, edits);
}

function appendTable(text: string, doc: ProfileDocument, profile: Profile): string {
  const nl = doc.newline;
  const table = profileTableText(profile, nl);
  if (text.trim() === '' && !text.includes('#')) return text + table;
  const separator = !text.endsWith('\n') ? nl + nl : /\n\s*\n$/.test(text) ? '' : nl;
  return text + separator + table;
}

function removeTable(text: string, doc: ProfileDocument, host: string, file: string): string {
  const table = doc.spans.get(host)?.table;
  if (!table)
    throw refuse(
      'profile.edit.form',
      `the profile for ${host} in ${file} is not written as a ${profileTable(host)} table`,
      'delete it by hand',
    );
  let { start, end } = table;
  const before = text.slice(0, start);
  const after = text.slice(end);
  const blank = /^[ \t]*\r?\n/.exec(after);
  // Keep the file tidy: one blank line between tables, none left hanging at either end.
  if (blank && (before === '' || /\n[ \t]*\r?\n$/.test(before))) end += blank[0].length;
  else if (after === '' && /\n[ \t]*\r?\n$/.test(before))
    start = before.replace(/[ \t]*\r?\n$/, '').length;
  return text.slice(0, start) + text.slice(end);
}

/** The result must read back as intended: the edited profile as asked, every other one as it was. */
function verify(
  before: ProfileDocument,
  afterText: string,
  change: ProfileChange,
  options: EditOptions,
): void {
  const after = parseProfileDocument(afterText, options.file);
  const touched = new Set<string>();
  if (change.type === 'put') {
    touched.add(change.profile.host);
    if (change.original !== null) touched.add(change.original);
  } else touched.add(change.host);
  const others = (doc: ProfileDocument) => doc.profiles.filter((p) => !touched.has(p.host));
  const othersInvalid = (doc: ProfileDocument) =>
    doc.invalid.filter((i) => !touched.has(i.host)).map((i) => i.host);
  const a = others(before);
  const b = others(after);
  let ok =
    after.syntaxOk &&
    a.length === b.length &&
    a.every((p, i) => b[i] !== undefined && same(p, b[i], options.home)) &&
    JSON.stringify(othersInvalid(before)) === JSON.stringify(othersInvalid(after));
  if (change.type === 'put') {
    const broken = after.invalid.find((i) => i.host === change.profile.host);
    if (broken && after.syntaxOk) {
      // The profile itself is not valid (the UIs check drafts first; a caller may not).
      const [problem] = broken.issues;
      throw refuse(
        'profile.edit.invalidProfile',
        `the profile for ${change.profile.host} would not be valid: ${problem?.message ?? 'invalid'}`,
        problem?.hint ?? 'fix the profile (nothing was written)',
      );
    }
    const written = after.profiles.find((p) => p.host === change.profile.host);
    ok &&= written !== undefined && same(written, change.profile, options.home);
  } else ok &&= findHost(after, change.host) === undefined;
  if (!ok)
    throw refuse(
      'profile.edit.unsafe',
      `knock could not edit ${options.file ?? 'the profile file'} safely; nothing was written`,
      'edit the file by hand (this is a bug in knock; please report it with the file)',
      ExitCode.internal,
    );
}

/**
 * Applies one change to the text of a profile file and returns the new text. Refuses
 * (a KnockError, ExitCode.config) rather than guess: a file that is not valid TOML, a
 * profile changed or removed since `previous` was read, a host that already has a profile.
 */
export function applyProfileChange(
  text: string,
  change: ProfileChange,
  options: EditOptions = {},
): string {
  const doc = parseProfileDocument(text, options.file);
  const file = where(options.file);
  if (!doc.syntaxOk) {
    const problem: Issue = { ...(doc.syntaxError as Issue) };
    delete problem.hint;
    throw refuse(
      'profile.edit.syntax',
      `cannot save: ${formatIssue(problem)}`,
      'fix the TOML syntax of the file first (nothing was written)',
    );
  }
  const reload = 'reload the profiles and make the change again (nothing was written)';
  const original = change.type === 'put' ? change.original : change.host;
  let current: Profile | undefined;
  if (original !== null) {
    current = doc.profiles.find((p) => p.host === original);
    const broken = doc.invalid.find((i) => i.host === original);
    if (!current && !(change.type === 'delete' && broken))
      throw broken
        ? refuse(
            'profile.edit.invalid',
            `the profile for ${original} in ${file} has errors now (line ${broken.line})`,
            'fix it in an editor first (knock check-profiles lists the problems)',
          )
        : refuse(
            'profile.edit.gone',
            `${original} is no longer in ${file} (removed by another program since it was read)`,
            reload,
          );
    if (current && change.previous && !same(current, change.previous, options.home))
      throw refuse(
        'profile.edit.changed',
        `the profile for ${original} in ${file} was changed by another program since it was read`,
        reload,
      );
  }

  let next: string;
  if (change.type === 'delete') {
    next = removeTable(text, doc, change.host, file);
  } else {
    const host = change.profile.host;
    const clash = host === original ? undefined : findHost(doc, host);
    if (clash !== undefined && (original === null || norm(clash) !== norm(original)))
      throw refuse(
        'profile.edit.exists',
        `${file} already has a profile for ${clash}`,
        'edit that profile instead, or choose another host name',
      );
    next =
      current && original !== null
        ? editTable(text, doc, original, current, change.profile, options)
        : appendTable(text, doc, contracted(change.profile, options.home));
  }
  verify(doc, next, change, options);
  return next;
}
