/**
 * The TUI's state and its reducer: the profile list, the filter, messages and the file's
 * loading and saving. The profile form is state-form.ts, a knock run state-run.ts.
 */
import {
  draftFromProfile,
  emptyDraft,
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
import { cycleChoice, editText, focusField, freshForm, submitForm } from './state-form.js';
import { finish, grantsAfter, newRun, progress, updateRun } from './state-run.js';

/** The live status of the last knock: one step per knock, then the verification. */
export type RunMode = 'knock' | 'verify' | 'close';

export interface KnockRun {
  host: string;
  /** Enter knocks (and verifies), v only verifies, c knocks the close sequence. */
  mode: RunMode;
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
  | { kind: 'confirm-delete'; host: string }
  | { kind: 'help' };

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
  /** The clock as last ticked (ms): what the countdowns count from. */
  now: number;
  /** Hosts knocked open, with when the grant (the profile's open_for) runs out. */
  grants: Record<string, { until: number; openFor: number }>;
  /** `/`: the list shows only hosts containing this text. */
  filter: string;
  /** The filter is being typed (keys go to it). */
  filtering: boolean;
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
  | { type: 'knock-start'; profile: Profile; mode?: RunMode }
  | { type: 'knock-progress'; host: string; event: KnockServiceProgress }
  /** `at`: the clock when it ended (a grant's countdown starts there). */
  | { type: 'knock-done'; host: string; outcome: KnockOutcome; at?: number }
  | { type: 'tick'; now: number }
  | { type: 'filter-start' }
  | { type: 'filter-type'; text: string }
  | { type: 'filter-erase' }
  /** Enter keeps the filter, Esc clears it. */
  | { type: 'filter-end'; keep: boolean }
  | { type: 'help' }
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
  now: 0,
  grants: {},
  filter: '',
  filtering: false,
});

/** The profiles the list shows: all, or those whose host contains the filter. */
export const visibleProfiles = (state: TuiState): Profile[] => {
  const f = state.filter.toLowerCase();
  return f === '' ? state.profiles : state.profiles.filter((p) => p.host.toLowerCase().includes(f));
};

/** Seconds left of a host's grant (undefined: none known, or run out). */
export function secondsLeft(state: TuiState, host: string): number | undefined {
  const grant = Object.hasOwn(state.grants, host) ? state.grants[host] : undefined;
  if (!grant) return undefined;
  const left = Math.ceil((grant.until - state.now) / 1000);
  return left > 0 ? left : undefined;
}

/** `4:12`, `0:09`, `1:02:03`. */
export function countdown(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** A knock that has ended (its status line may go). */
export const isFinished = (state: TuiState): boolean =>
  state.run !== undefined && !isKnocking(state);

export const isKnocking = (state: TuiState): boolean =>
  state.run !== undefined && ['resolving', 'knocking', 'verifying'].includes(state.run.phase);

export const selectedProfile = (state: TuiState): Profile | undefined =>
  visibleProfiles(state)[state.selected];

const clamp = (n: number, length: number): number => Math.max(0, Math.min(n, length - 1));

export function reducer(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case 'loaded':
      return loaded(state, action);
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
    case 'move': {
      const shown = visibleProfiles(state).length;
      if (state.screen.kind !== 'list' || shown === 0) return state;
      return { ...state, selected: clamp(state.selected + action.by, shown) };
    }
    case 'tick':
      return action.now === state.now ? state : { ...state, now: action.now };
    case 'filter-start':
      if (state.screen.kind !== 'list') return state;
      return { ...withoutNotice(state), filtering: true };
    case 'filter-type':
    case 'filter-erase': {
      if (!state.filtering) return state;
      const filter =
        action.type === 'filter-type' ? state.filter + action.text : state.filter.slice(0, -1);
      return { ...state, filter, selected: 0 };
    }
    case 'filter-end':
      return action.keep
        ? { ...state, filtering: false }
        : { ...state, filtering: false, filter: '', selected: 0 };
    case 'help':
      return {
        ...withoutNotice(state),
        screen: state.screen.kind === 'help' ? { kind: 'list' } : { kind: 'help' },
      };
    case 'add':
      if (!canEdit(state)) return refuseEdit(state);
      return { ...withoutNotice(state), screen: freshForm(null, emptyDraft()) };
    case 'edit': {
      const profile = selectedProfile(state);
      if (!canEdit(state)) return refuseEdit(state);
      if (!profile) return notice(state, 'info', 'nothing to edit: press a to add a profile');
      return {
        ...withoutNotice(state),
        screen: freshForm(profile.host, draftFromProfile(profile)),
      };
    }
    case 'delete': {
      const profile = selectedProfile(state);
      if (!canEdit(state)) return refuseEdit(state);
      if (!profile) return state;
      return { ...withoutNotice(state), screen: { kind: 'confirm-delete', host: profile.host } };
    }
    case 'confirm':
      return confirmDelete(state);
    case 'cancel':
      if (state.saving) return state;
      return { ...withoutNotice(state), screen: { kind: 'list' } };
    case 'form-type':
      return editText(state, (text) => text + action.text);
    case 'form-erase':
      return editText(state, (text) => text.slice(0, -1));
    case 'form-focus':
      return focusField(state, action.by);
    case 'form-cycle':
      return cycleChoice(state, action.by);
    case 'form-submit':
      return submitForm(state);
    case 'saved':
      return saved(state, action.loaded);
    case 'save-failed': {
      // The form (or the confirmation) stays open, so nothing typed is lost.
      const { saving: _, ...rest } = state;
      return notice(rest, 'error', action.message);
    }
    case 'knock-start':
      if (isKnocking(state)) return notice(state, 'info', `still knocking ${state.run?.host}…`);
      return { ...withoutNotice(state), run: newRun(action.profile, action.mode) };
    case 'knock-progress':
      return updateRun(state, action.host, (run) => progress(run, action.event));
    case 'knock-done': {
      const next = updateRun(state, action.host, (run) => finish(run, action.outcome));
      if (next === state || !next.run) return next;
      return {
        ...next,
        grants: grantsAfter(next, next.run, action.outcome, action.at ?? state.now),
      };
    }
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

function loaded(state: TuiState, action: Extract<Action, { type: 'loaded' }>): TuiState {
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

/** `y` on the delete question: the deletion waits for the store effect. */
function confirmDelete(state: TuiState): TuiState {
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

/** The store wrote the change: back to the list, on the profile saved. */
function saved(state: TuiState, stored: StoredProfiles | undefined): TuiState {
  const saving = state.saving;
  if (!saving) return state;
  const { saving: _, ...rest } = state;
  // The file as it is now: with what other programs added meanwhile.
  const profiles = stored?.profiles ?? state.profiles;
  const index =
    saving.select === undefined
      ? state.selected
      : profiles.findIndex((p) => p.host === saving.select);
  return notice(
    {
      ...rest,
      profiles,
      invalid: stored?.invalid ?? state.invalid,
      otherProblems: stored ? others(stored.warnings) : state.otherProblems,
      exists: true,
      selected: clamp(index, profiles.length),
      screen: { kind: 'list' },
    },
    'info',
    saving.done,
  );
}

/** Problems that are not the one-line summary of an unusable profile. */
const others = (warnings: readonly Issue[] | undefined): number =>
  (warnings ?? []).filter((w) => w.code !== 'profile.unusable').length;

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
