/**
 * The TUI's profile form (state.ts's reducer hands it the form actions): typing, moving
 * between fields, choices, and Enter, each field checked as the CLI will read it back.
 */
import {
  CHOICE_FIELDS,
  DRAFT_FIELDS,
  FAMILIES,
  KEEP_OPEN_CHOICES,
  validateDraft,
  type DraftErrors,
  type ProfileDraft,
} from '@knock/shared';
import type { Screen, TuiState } from './state.js';

export type FormScreen = Extract<Screen, { kind: 'form' }>;

/** A form as it opens: on the host field, nothing touched, no errors yet. */
export const freshForm = (original: string | null, draft: ProfileDraft): FormScreen => ({
  kind: 'form',
  original,
  draft,
  field: 'host',
  errors: {},
  touched: [],
  submitted: false,
});

/** Changes the text of the focused field (family is a choice, typed text leaves it alone). */
export function editText(state: TuiState, change: (text: string) => string): TuiState {
  return updateForm(state, (form) =>
    CHOICE_FIELDS.includes(form.field)
      ? form
      : edited(state, form, { ...form.draft, [form.field]: change(form.draft[form.field]) }),
  );
}

function updateForm(state: TuiState, change: (form: FormScreen) => FormScreen): TuiState {
  if (state.screen.kind !== 'form' || state.saving) return state;
  const next = change(state.screen);
  return next === state.screen ? state : { ...state, screen: next };
}

/** Tab / shift-Tab: the next or previous field. */
export function focusField(state: TuiState, by: number): TuiState {
  return updateForm(state, (form) => {
    const i = DRAFT_FIELDS.indexOf(form.field) + by;
    const field = DRAFT_FIELDS[(i + DRAFT_FIELDS.length) % DRAFT_FIELDS.length] ?? 'host';
    return { ...form, field };
  });
}

/** Left / right on a choice field (family, keep open): the next or previous choice. */
export function cycleChoice(state: TuiState, by: number): TuiState {
  return updateForm(state, (form) => {
    if (form.field === 'keepOpen') {
      const k = KEEP_OPEN_CHOICES.indexOf(form.draft.keepOpen) + by;
      const keepOpen =
        KEEP_OPEN_CHOICES[(k + KEEP_OPEN_CHOICES.length) % KEEP_OPEN_CHOICES.length] ?? 'no';
      return edited(state, form, { ...form.draft, keepOpen });
    }
    if (form.field !== 'family') return form;
    const i = FAMILIES.indexOf(form.draft.family) + by;
    const family = FAMILIES[(i + FAMILIES.length) % FAMILIES.length] ?? 'any';
    return edited(state, form, { ...form.draft, family });
  });
}

/** Enter: every field checked; a valid profile waits for the store effect to write it. */
export function submitForm(state: TuiState): TuiState {
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
