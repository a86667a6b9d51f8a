import {
  DRAFT_FIELDS,
  FAMILIES,
  draftFromProfile,
  emptyDraft,
  validateDraft,
  type DraftErrors,
  type DraftField,
  type Knock,
  type Profile,
  type ProfileDraft,
} from '@knock/shared';
import type { KnockOutcome, KnockServiceProgress } from '@knock/shared/node';

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
      errors: DraftErrors;
    }
  | { kind: 'confirm-delete'; host: string };

export interface TuiState {
  status: 'loading' | 'ready' | 'error';
  /** Why the profile file could not be read (file:line and what to do). */
  loadError?: string;
  path: string;
  exists: boolean;
  profiles: Profile[];
  selected: number;
  screen: Screen;
  run?: KnockRun;
  /** Profiles waiting to be written; the store effect saves them and answers saved / save-failed. */
  saving?: { profiles: Profile[]; done: string; select: string | undefined };
  notice?: { tone: 'info' | 'error'; text: string };
}

export type Action =
  | { type: 'loaded'; path: string; profiles: Profile[]; exists: boolean }
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
  | { type: 'saved' }
  | { type: 'save-failed'; message: string }
  | { type: 'knock-start'; profile: Profile }
  | { type: 'knock-progress'; host: string; event: KnockServiceProgress }
  | { type: 'knock-done'; host: string; outcome: KnockOutcome }
  | { type: 'notice'; tone: 'info' | 'error'; text: string };

export const initialState = (path = ''): TuiState => ({
  status: 'loading',
  path,
  exists: false,
  profiles: [],
  selected: 0,
  screen: { kind: 'list' },
});

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
        selected: kept >= 0 ? kept : clamp(state.selected, action.profiles.length),
      };
    }
    case 'load-failed':
      return { ...state, status: 'error', loadError: action.message, profiles: [], selected: 0 };
    case 'reload':
      return { ...withoutNotice(state), status: 'loading' };
    case 'move':
      if (state.screen.kind !== 'list' || state.profiles.length === 0) return state;
      return { ...state, selected: clamp(state.selected + action.by, state.profiles.length) };
    case 'add':
      if (!canEdit(state)) return refuseEdit(state);
      return {
        ...withoutNotice(state),
        screen: { kind: 'form', original: null, draft: emptyDraft(), field: 'host', errors: {} },
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
      return {
        ...state,
        saving: {
          profiles: state.profiles.filter((p) => p.host !== screen.host),
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
          : {
              ...form,
              draft: { ...form.draft, [form.field]: form.draft[form.field] + action.text },
            },
      );
    case 'form-erase':
      return updateForm(state, (form) =>
        form.field === 'family'
          ? form
          : {
              ...form,
              draft: { ...form.draft, [form.field]: form.draft[form.field].slice(0, -1) },
            },
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
        return { ...form, draft: { ...form.draft, family } };
      });
    case 'form-submit': {
      const screen = state.screen;
      if (screen.kind !== 'form' || state.saving) return state;
      const base = state.profiles.find((p) => p.host === screen.original);
      const others = state.profiles.filter((p) => p !== base);
      const result = validateDraft(screen.draft, others, base);
      if (!result.ok) {
        const first = DRAFT_FIELDS.find((f) => result.errors[f] !== undefined) ?? screen.field;
        return { ...state, screen: { ...screen, errors: result.errors, field: first } };
      }
      const profiles = base
        ? state.profiles.map((p) => (p === base ? result.profile : p))
        : [...state.profiles, result.profile];
      return {
        ...state,
        screen: { ...screen, errors: {} },
        saving: {
          profiles,
          done: `saved ${result.profile.host} to ${state.path}`,
          select: result.profile.host,
        },
      };
    }
    case 'saved': {
      const saving = state.saving;
      if (!saving) return state;
      const { saving: _, ...rest } = state;
      const index =
        saving.select === undefined
          ? state.selected
          : saving.profiles.findIndex((p) => p.host === saving.select);
      return {
        ...rest,
        profiles: saving.profiles,
        exists: true,
        selected: clamp(index, saving.profiles.length),
        screen: { kind: 'list' },
        notice: { tone: 'info', text: saving.done },
      };
    }
    case 'save-failed': {
      // The form (or the confirmation) stays open, so nothing typed is lost.
      const { saving: _, ...rest } = state;
      return { ...rest, notice: { tone: 'error', text: action.message } };
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
  }
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

function notice(state: TuiState, tone: 'info' | 'error', text: string): TuiState {
  return { ...state, notice: { tone, text } };
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
