import {
  DRAFT_FIELDS,
  FAMILIES,
  draftFromProfile,
  emptyDraft,
  validateDraft,
  type DraftErrors,
  type DraftField,
  type InvalidProfile,
  type Issue,
  type Knock,
  type Profile,
  type ProfileDraft,
} from '@knock/shared';
import type {
  KnockOutcome,
  KnockServiceProgress,
  ProfileChange,
  StoredProfiles,
} from '@knock/shared/node';

/** The live status of the last knock: one step per knock, then the verification. */
export interface KnockRun {
  host: string;
  /** Knocks of the sequence; for a one-time file they appear as they are sent. */
  knocks: Knock[];
  sent: number;
  phase: 'resolving' | 'knocking' | 'verifying' | 'open' | 'closed' | 'sent' | 'failed';
  port?: number;
  /** The address that opened, or why it did not. */
  detail?: string;
}

export type Screen =
  | { kind: 'list' }
  | {
      kind: 'form';
      /** Host of the profile being edited; null when adding. */
      original: string | null;
      draft: ProfileDraft;
      field: DraftField;
      /** The problems shown: of the fields typed into (all of them after Enter). */
      errors: DraftErrors;
      /** Fields the user typed into: checked as they type. */
      touched: DraftField[];
      /** Enter was pressed once: every field is checked. */
      submitted: boolean;
    }
  | { kind: 'confirm-delete'; host: string };

export interface TuiState {
  status: 'loading' | 'ready' | 'error';
  /** Why the profile file could not be read (file:line and what to do). */
  loadError?: string;
  path: string;
  exists: boolean;
  profiles: Profile[];
  /** Profiles of the file that have errors: shown, not usable (the others are). */
  invalid: InvalidProfile[];
  /** Other problems of the file (unknown keys, errors outside any profile). */
  otherProblems: number;
  selected: number;
  screen: Screen;
  run?: KnockRun;
  /** The one change waiting to be written; the store effect applies it and answers saved / save-failed. */
  saving?: { change: ProfileChange; done: string; select: string | undefined };
  /** The last message; `id` lets a timer clear exactly this one. */
  notice?: { tone: 'info' | 'error'; text: string; id: number };
  /** Unused sequences left in one-time files, by path (when known). */
  otsLeft: Record<string, number>;
  /** A service name's port (`ssh` → 22), for the verify-port field. */
  servicePort?: (name: string) => number | undefined;
}

export type Action =
  | {
      type: 'loaded';
      path: string;
      profiles: Profile[];
      exists: boolean;
      invalid?: InvalidProfile[];
      warnings?: Issue[];
    }
  | { type: 'load-failed'; message: string }
  | { type: 'reload' }
  | { type: 'move'; by: number }
  | { type: 'add' }
  | { type: 'edit' }
  | { type: 'delete' }
  | { type: 'confirm' }
  | { type: 'cancel' }
  | { type: 'form-type'; text: string }
  | { type: 'form-erase' }
  | { type: 'form-focus'; by: number }
  | { type: 'form-cycle'; by: number }
  | { type: 'form-submit' }
  | { type: 'saved'; loaded?: StoredProfiles }
  | { type: 'save-failed'; message: string }
  | { type: 'knock-start'; profile: Profile }
  | { type: 'knock-progress'; host: string; event: KnockServiceProgress }
  | { type: 'knock-done'; host: string; outcome: KnockOutcome }
  | { type: 'notice'; tone: 'info' | 'error'; text: string }
  /** A key was pressed: the last message and a finished knock's status make room. */
  | { type: 'key' }
  /** A message (or a finished knock's status, id -1) has been on screen long enough. */
  | { type: 'expire'; id: number }
  | { type: 'ots-left'; path: string; left: number };

export const initialState = (
  path = '',
  servicePort?: (name: string) => number | undefined,
): TuiState => ({
  status: 'loading',
  path,
  exists: false,
  profiles: [],
  invalid: [],
  otherProblems: 0,
  selected: 0,
  screen: { kind: 'list' },
  otsLeft: {},
  ...(servicePort ? { servicePort } : {}),
});

/** A knock that has ended (its status line may go). */
export const isFinished = (state: TuiState): boolean =>
  state.run !== undefined && !isKnocking(state);

export const isKnocking = (state: TuiState): boolean =>
  state.run !== undefined && ['resolving', 'knocking', 'verifying'].includes(state.run.phase);

export const selectedProfile = (state: TuiState): Profile | undefined =>
  state.profiles[state.selected];

const clamp = (n: number, length: number): number => Math.max(0, Math.min(n, length - 1));

export function reducer(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case 'loaded': {
      const { loadError: _, ...rest } = state;
      const host = selectedProfile(state)?.host;
      const kept = host === undefined ? -1 : action.profiles.findIndex((p) => p.host === host);
      return {
        ...rest,
        status: 'ready',
        path: action.path,
        exists: action.exists,
        profiles: action.profiles,
        invalid: action.invalid ?? [],
        otherProblems: others(action.warnings),
        selected: kept >= 0 ? kept : clamp(state.selected, action.profiles.length),
      };
    }
    case 'load-failed':
      return {
        ...state,
        status: 'error',
        loadError: action.message,
        profiles: [],
        invalid: [],
        selected: 0,
      };
    case 'reload':
      return { ...withoutNotice(state), status: 'loading' };
    case 'move':
      if (state.screen.kind !== 'list' || state.profiles.length === 0) return state;
      return { ...state, selected: clamp(state.selected + action.by, state.profiles.length) };
    case 'add':
      if (!canEdit(state)) return refuseEdit(state);
      return {
        ...withoutNotice(state),
        screen: {
          kind: 'form',
          original: null,
          draft: emptyDraft(),
          field: 'host',
          errors: {},
          touched: [],
          submitted: false,
        },
      };
    case 'edit': {
      const profile = selectedProfile(state);
      if (!canEdit(state)) return refuseEdit(state);
      if (!profile) return notice(state, 'info', 'nothing to edit: press a to add a profile');
      return {
        ...withoutNotice(state),
        screen: {
          kind: 'form',
          original: profile.host,
          draft: draftFromProfile(profile),
          field: 'host',
          errors: {},
          touched: [],
          submitted: false,
        },
      };
    }
    case 'delete': {
      const profile = selectedProfile(state);
      if (!canEdit(state)) return refuseEdit(state);
      if (!profile) return state;
      return { ...withoutNotice(state), screen: { kind: 'confirm-delete', host: profile.host } };
    }
    case 'confirm': {
      const screen = state.screen;
      if (screen.kind !== 'confirm-delete' || state.saving) return state;
      const previous = state.profiles.find((p) => p.host === screen.host);
      return {
        ...state,
        saving: {
          change: { type: 'delete', host: screen.host, ...(previous ? { previous } : {}) },
          done: `deleted ${screen.host}`,
          select: undefined,
        },
      };
    }
    case 'cancel':
      if (state.saving) return state;
      return { ...withoutNotice(state), screen: { kind: 'list' } };
    case 'form-type':
      return updateForm(state, (form) =>
        form.field === 'family'
          ? form
          : edited(state, form, {
              ...form.draft,
              [form.field]: form.draft[form.field] + action.text,
            }),
      );
    case 'form-erase':
      return updateForm(state, (form) =>
        form.field === 'family'
          ? form
          : edited(state, form, {
              ...form.draft,
              [form.field]: form.draft[form.field].slice(0, -1),
            }),
      );
    case 'form-focus':
      return updateForm(state, (form) => {
        const i = DRAFT_FIELDS.indexOf(form.field) + action.by;
        const field = DRAFT_FIELDS[(i + DRAFT_FIELDS.length) % DRAFT_FIELDS.length] ?? 'host';
        return { ...form, field };
      });
    case 'form-cycle':
      return updateForm(state, (form) => {
        if (form.field !== 'family') return form;
        const i = FAMILIES.indexOf(form.draft.family) + action.by;
        const family = FAMILIES[(i + FAMILIES.length) % FAMILIES.length] ?? 'any';
        return edited(state, form, { ...form.draft, family });
      });
    case 'form-submit': {
      const screen = state.screen;
      if (screen.kind !== 'form' || state.saving) return state;
      const { base, result } = check(state, screen.draft, screen.original);
      if (!result.ok) {
        const first = DRAFT_FIELDS.find((f) => result.errors[f] !== undefined) ?? screen.field;
        return {
          ...state,
          screen: { ...screen, errors: result.errors, field: first, submitted: true },
        };
      }
      return {
        ...state,
        screen: { ...screen, errors: {}, submitted: true },
        saving: {
          change: {
            type: 'put',
            original: base ? base.host : null,
            profile: result.profile,
            ...(base ? { previous: base } : {}),
          },
          done: `saved ${result.profile.host} to ${state.path}`,
          select: result.profile.host,
        },
      };
    }
    case 'saved': {
      const saving = state.saving;
      if (!saving) return state;
      const { saving: _, ...rest } = state;
      // The file as it is now: with what other programs added meanwhile.
      const profiles = action.loaded?.profiles ?? state.profiles;
      const index =
        saving.select === undefined
          ? state.selected
          : profiles.findIndex((p) => p.host === saving.select);
      return notice(
        {
          ...rest,
          profiles,
          invalid: action.loaded?.invalid ?? state.invalid,
          otherProblems: action.loaded ? others(action.loaded.warnings) : state.otherProblems,
          exists: true,
          selected: clamp(index, profiles.length),
          screen: { kind: 'list' },
        },
        'info',
        saving.done,
      );
    }
    case 'save-failed': {
      // The form (or the confirmation) stays open, so nothing typed is lost.
      const { saving: _, ...rest } = state;
      return notice(rest, 'error', action.message);
    }
    case 'knock-start':
      if (isKnocking(state)) return notice(state, 'info', `still knocking ${state.run?.host}…`);
      return {
        ...withoutNotice(state),
        run: {
          host: action.profile.host,
          knocks: action.profile.sequence ? [...action.profile.sequence] : [],
          sent: 0,
          phase: 'resolving',
        },
      };
    case 'knock-progress':
      return updateRun(state, action.host, (run) => progress(run, action.event));
    case 'knock-done':
      return updateRun(state, action.host, (run) => finish(run, action.outcome));
    case 'notice':
      return notice(state, action.tone, action.text);
    case 'key': {
      let next = state.saving ? state : withoutNotice(state);
      if (isFinished(next)) {
        const { run: _, ...rest } = next;
        next = rest;
      }
      return next;
    }
    case 'expire': {
      if (action.id === -1 && isFinished(state)) {
        const { run: _, ...rest } = state;
        return rest;
      }
      return state.notice?.id === action.id && !state.saving ? withoutNotice(state) : state;
    }
    case 'ots-left':
      if (Object.hasOwn(state.otsLeft, action.path) && state.otsLeft[action.path] === action.left)
        return state;
      return { ...state, otsLeft: { ...state.otsLeft, [action.path]: action.left } };
  }
}

/** Problems that are not the one-line summary of an unusable profile. */
const others = (warnings: readonly Issue[] | undefined): number =>
  (warnings ?? []).filter((w) => w.code !== 'profile.unusable').length;

/** The draft checked as the CLI will read it back (with the other profiles, for a duplicate host). */
function check(state: TuiState, draft: ProfileDraft, original: string | null) {
  const base = state.profiles.find((p) => p.host === original);
  const others = state.profiles.filter((p) => p !== base);
  const result = validateDraft(
    draft,
    others,
    base,
    state.servicePort ? { servicePort: state.servicePort } : {},
  );
  return { base, result };
}

/**
 * The form after the user changed a field: checked as they type. A field shows its
 * problems once typed into (every field after Enter); a fixed problem goes at once.
 */
function edited(state: TuiState, form: FormScreen, draft: ProfileDraft): FormScreen {
  const touched = form.touched.includes(form.field) ? form.touched : [...form.touched, form.field];
  const { result } = check(state, draft, form.original);
  const all: DraftErrors = result.ok ? {} : result.errors;
  const errors: DraftErrors = {};
  for (const field of DRAFT_FIELDS) {
    const error = all[field];
    if (error !== undefined && (form.submitted || touched.includes(field))) errors[field] = error;
  }
  return { ...form, draft, touched, errors };
}

function progress(run: KnockRun, event: KnockServiceProgress): KnockRun {
  switch (event.type) {
    case 'resolved':
      return { ...run, phase: 'knocking', detail: event.addresses.join(', ') };
    case 'sent': {
      const knocks = [...run.knocks];
      knocks[event.index] = event.knock;
      return { ...run, phase: 'knocking', knocks, sent: Math.max(run.sent, event.index + 1) };
    }
    case 'unreachable':
      // Shown only if nothing better comes (the other addresses usually answer).
      return { ...run, detail: `${event.address}: ${event.reason}` };
    case 'verifying':
      return { ...run, phase: 'verifying', port: event.port };
    case 'open':
      return { ...run, phase: 'open', port: event.port, detail: event.address };
    case 'closed':
      return { ...run, phase: 'closed', port: event.port, detail: event.reason };
  }
}

function finish(run: KnockRun, outcome: KnockOutcome): KnockRun {
  switch (outcome.status) {
    case 'open':
      return { ...run, phase: 'open', port: outcome.port, detail: outcome.address };
    case 'closed':
      return { ...run, phase: 'closed', port: outcome.port, detail: outcome.reason };
    case 'sent':
      return { ...run, phase: 'sent', detail: outcome.addresses.join(', ') };
    case 'failed':
      return { ...run, phase: 'failed', detail: outcome.reason };
  }
}

// A bad file must not be overwritten by a save from the TUI: that would lose what the user wrote.
const canEdit = (state: TuiState): boolean => state.status === 'ready' && !state.saving;

function refuseEdit(state: TuiState): TuiState {
  if (state.status === 'error')
    return notice(state, 'error', `fix ${state.path || 'the profile file'} first, then press r`);
  return state;
}

let noticeId = 0;

function notice(state: TuiState, tone: 'info' | 'error', text: string): TuiState {
  noticeId += 1;
  return { ...state, notice: { tone, text, id: noticeId } };
}

function withoutNotice(state: TuiState): TuiState {
  const { notice: _, ...rest } = state;
  return rest;
}

type FormScreen = Extract<Screen, { kind: 'form' }>;

function updateForm(state: TuiState, change: (form: FormScreen) => FormScreen): TuiState {
  if (state.screen.kind !== 'form' || state.saving) return state;
  const next = change(state.screen);
  return next === state.screen ? state : { ...state, screen: next };
}

function updateRun(state: TuiState, host: string, change: (run: KnockRun) => KnockRun): TuiState {
  if (!state.run || state.run.host !== host) return state;
  return { ...state, run: change(state.run) };
}
