import type { Profile } from './profile.js';
import { formatSequence, parseSequence } from './sequence.js';
import { parseKnockUri, type KnockUri } from './rotating-profile.js';

// Profiles as the UIs show and edit them: the TUI's form and the tray's profile window
// (whose main process validates every draft here: it trusts nothing from a page).

/** A profile form's fields, as typed: everything is text until it validates. */
export interface ProfileDraft {
  host: string;
  /** knockd Sequence syntax; leave empty to use a one-time-sequence file instead. */
  sequence: string;
  oneTimeSequences: string;
  port: string;
  family: Profile['family'];
  delayMs: string;
  /** Seconds the server grants (open_for); empty: not said. */
  openFor: string;
  /** The close knock (close_sequence), knockd Sequence syntax; empty: none. */
  closeSequence: string;
  /** keep_open: a choice, like family. */
  keepOpen: 'no' | 'yes';
}

export type DraftField = keyof ProfileDraft;
export type DraftErrors = Partial<Record<DraftField, string>>;

export const DRAFT_FIELDS: readonly DraftField[] = [
  'host',
  'sequence',
  'oneTimeSequences',
  'port',
  'family',
  'delayMs',
  'openFor',
  'closeSequence',
  'keepOpen',
];

export const FAMILIES: readonly Profile['family'][] = ['any', 'ipv4', 'ipv6'];
export const KEEP_OPEN_CHOICES: readonly ProfileDraft['keepOpen'][] = ['no', 'yes'];
/** The fields picked from a few choices (←→ in the TUI, a select in the window). */
export const CHOICE_FIELDS: readonly DraftField[] = ['family', 'keepOpen'];
/** The longest open_for: a year, the longest grant the server's firewall holds. */
export const MAX_OPEN_FOR_S = 31_536_000;

export const emptyDraft = (): ProfileDraft => ({
  host: '',
  sequence: '',
  oneTimeSequences: '',
  port: '22',
  family: 'any',
  delayMs: '0',
  openFor: '',
  closeSequence: '',
  keepOpen: 'no',
});

/** A short description of the profile's sequence, for lists and menus. */
export function describeSequence(profile: Profile): string {
  if (profile.sequence && profile.sequence.length > 0) return formatSequence(profile.sequence);
  if (profile.oneTimeSequences) return `one-time: ${profile.oneTimeSequences}`;
  if (profile.rotating)
    return `rotating: door ${profile.rotating.door}, ${profile.rotating.length} knocks every ${profile.rotating.step} s`;
  return '(no sequence)';
}

export function draftFromProfile(profile: Profile): ProfileDraft {
  return {
    host: profile.host,
    sequence: profile.sequence ? formatSequence(profile.sequence) : '',
    oneTimeSequences: profile.oneTimeSequences ?? '',
    port: profile.port === undefined ? '' : String(profile.port),
    family: profile.family,
    delayMs: String(profile.delayMs),
    openFor: profile.openFor === undefined ? '' : String(profile.openFor),
    closeSequence: profile.closeSequence ? formatSequence(profile.closeSequence) : '',
    keepOpen: profile.keepOpen === true ? 'yes' : 'no',
  };
}

export type DraftResult = { ok: true; profile: Profile } | { ok: false; errors: DraftErrors };

/**
 * Checks a draft the way the CLI will read it back and builds the profile.
 * `base` is the profile being edited: keys the form does not show (verify
 * timeout…) are kept. `others` are the remaining profiles (host names must stay unique).
 */
export interface DraftOptions {
  /** A service name's port (`ssh` → 22), from /etc/services, as the CLI takes them. */
  servicePort?: (name: string) => number | undefined;
}

export function validateDraft(
  draft: ProfileDraft,
  others: readonly Profile[],
  base?: Profile,
  options: DraftOptions = {},
): DraftResult {
  const errors: DraftErrors = {};
  // A knock:// URI pasted as the sequence makes a rotating profile (knock-server secret new).
  let uri: KnockUri | undefined;
  if (/^knock:\/\//i.test(draft.sequence.trim())) {
    const parsed = parseKnockUri(draft.sequence);
    if (parsed.uri) uri = parsed.uri;
    else errors.sequence = parsed.problem ?? 'not a knock:// URI';
  }
  const host = draft.host.trim() || (uri?.host ?? '');
  if (host === '') errors.host = 'required: the host name or address to knock';
  else if (/\s/.test(host)) errors.host = 'a host name has no spaces';
  else if (others.some((p) => p.host.toLowerCase() === host.toLowerCase()))
    errors.host = `a profile for ${host} already exists`;

  const sequenceText = draft.sequence.trim();
  const otsPath = draft.oneTimeSequences.trim();
  let sequence: Profile['sequence'];
  if (uri || errors.sequence !== undefined) {
    if (otsPath !== '') errors.oneTimeSequences = 'a knock:// URI replaces the one-time file';
  } else if (sequenceText === '' && otsPath === '' && base?.rotating) {
    // A rotating profile keeps its secret when the form shows no sequence.
  } else if (sequenceText !== '' && otsPath !== '') {
    errors.oneTimeSequences = 'give a sequence or a one-time-sequence file, not both';
  } else if (sequenceText === '' && otsPath === '') {
    errors.sequence = 'required: ports to knock, e.g. 7000,8000:udp,9000 (or a one-time file)';
  } else if (sequenceText !== '') {
    const parsed = parseSequence(sequenceText, { line: 1, column: 1 });
    // Every problem, one per line: `1228,,70000` has two.
    const problems = parsed.issues.filter((i) => i.severity === 'error');
    if (problems.length > 0) {
      errors.sequence = problems
        .map((p) => {
          const at = p.column > 0 ? `column ${p.column}: ` : '';
          return `${at}${p.message}${p.hint ? ` (${p.hint})` : ''}`;
        })
        .join('\n');
    } else sequence = parsed.knocks;
  }

  let port = parseInteger(draft.port, 1, 65535) ?? uri?.port;
  const portName = draft.port.trim();
  if (port === 'invalid' && /^[A-Za-z][\w.+-]*$/.test(portName)) {
    const named = options.servicePort?.(portName);
    port = named === undefined ? 'invalid' : named;
    if (named === undefined)
      errors.port = `"${portName}" is not a known service name (not in /etc/services): give a port number`;
  } else if (port === 'invalid')
    errors.port =
      'a port from 1 to 65535 (or a service name such as ssh), or empty to skip the check';

  const delay = parseInteger(draft.delayMs, 0, 60_000);
  if (delay === 'invalid') errors.delayMs = 'milliseconds between knocks, from 0 to 60000';

  if (!FAMILIES.includes(draft.family)) errors.family = 'any, ipv4 or ipv6';

  const openFor = parseInteger(draft.openFor ?? '', 1, MAX_OPEN_FOR_S);
  if (openFor === 'invalid')
    errors.openFor = `seconds the server grants (its Open_Timeout), from 1 to ${MAX_OPEN_FOR_S}, or empty`;
  let closeSequence: Profile['closeSequence'];
  const closeText = (draft.closeSequence ?? '').trim();
  if (closeText !== '') {
    const parsed = parseSequence(closeText, { line: 1, column: 1 });
    const problems = parsed.issues.filter((i) => i.severity === 'error');
    if (problems.length > 0)
      errors.closeSequence = problems
        .map((p) => `${p.column > 0 ? `column ${p.column}: ` : ''}${p.message}`)
        .join('\n');
    else closeSequence = parsed.knocks;
  }
  const keepOpen = draft.keepOpen ?? 'no';
  if (!KEEP_OPEN_CHOICES.includes(keepOpen)) errors.keepOpen = 'yes or no';

  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const profile: Profile = { ...base, host, family: draft.family, delayMs: 0 };
  delete profile.sequence;
  delete profile.oneTimeSequences;
  delete profile.port;
  if (uri || sequence || otsPath !== '') delete profile.rotating;
  if (uri) profile.rotating = uri.rotating;
  else if (sequence) profile.sequence = sequence;
  else if (otsPath !== '') profile.oneTimeSequences = otsPath;
  if (typeof port === 'number') profile.port = port;
  profile.delayMs = typeof delay === 'number' ? delay : 0;
  delete profile.openFor;
  delete profile.closeSequence;
  delete profile.keepOpen;
  if (typeof openFor === 'number') profile.openFor = openFor;
  if (closeSequence) profile.closeSequence = closeSequence;
  // "no" keeps an explicit keep_open = false as it was written.
  if (keepOpen === 'yes') profile.keepOpen = true;
  else if (base?.keepOpen === false) profile.keepOpen = false;
  return { ok: true, profile };
}

/** An integer in [min, max]; undefined for an empty field. */
function parseInteger(text: string, min: number, max: number): number | undefined | 'invalid' {
  const t = text.trim();
  if (t === '') return undefined;
  if (!/^\d+$/.test(t)) return 'invalid';
  const n = Number(t);
  return n >= min && n <= max ? n : 'invalid';
}
