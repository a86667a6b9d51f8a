// The profile window's script: a form over window.knockProfiles (the preload's
// four calls). It validates nothing itself: the main process checks every
// draft with the same parser the CLI uses, and its answers are shown inline.
import type {
  DraftErrors,
  ProfileDraft,
  ProfilesApi,
  ProfilesView,
  SaveResult,
} from '../ipc-channels.js';

declare global {
  interface Window {
    knockProfiles: ProfilesApi;
  }
}

// This page runs unbundled: index.html loads this one compiled file as a module, and the
// browser cannot resolve '@knock/shared' (a bare specifier, with a CSP that allows only
// this app's files). So the blank form, and with its keys the list of fields, come from the
// main process in the view (view.blank, emptyDraft() of @knock/shared); until the first
// view has come, the form does nothing.
type Field = keyof ProfileDraft;

const api = window.knockProfiles;
const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`profile window: #${id} is missing`);
  return found as T;
};
const form = element<HTMLFormElement>('form');
const input = (field: Field) => element<HTMLInputElement | HTMLSelectElement>(field);
const status = element<HTMLParagraphElement>('status');
const deleteButton = element<HTMLButtonElement>('delete');

let view: ProfilesView | undefined;
/** The form's fields (none before the first view). */
const fields = (): Field[] => (view === undefined ? [] : (Object.keys(view.blank) as Field[]));
/** The host being edited, or null for a new profile. */
let original: string | null = null;
let confirmingDelete = false;
let checkTimer: ReturnType<typeof setTimeout> | undefined;
/** Bumped on every edit and save, so a late check answer never overwrites newer errors. */
let generation = 0;

/** The form as a draft: each field's text (the main process checks every value). */
function readDraft(): ProfileDraft {
  return Object.fromEntries(
    fields().map((field) => [field, input(field).value]),
  ) as unknown as ProfileDraft;
}

function showErrors(errors: DraftErrors): void {
  for (const field of fields()) {
    const message = errors[field];
    element(`error-${field}`).textContent = message ?? '';
    input(field).setAttribute('aria-invalid', message === undefined ? 'false' : 'true');
  }
}

function edit(draft: ProfileDraft, host: string | null): void {
  original = host;
  for (const field of fields()) input(field).value = draft[field];
  element('form-title').textContent = host === null ? 'New profile' : `Edit ${host}`;
  deleteButton.hidden = host === null;
  resetDelete();
  showErrors({});
  renderHosts();
}

function renderHosts(): void {
  const list = element<HTMLUListElement>('hosts');
  list.replaceChildren(
    ...(view?.profiles ?? []).map((draft) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = draft.host;
      button.setAttribute('aria-current', String(draft.host === original));
      button.addEventListener('click', () => edit(draft, draft.host));
      item.append(button);
      return item;
    }),
  );
}

function show(next: ProfilesView): void {
  view = next;
  element('path').textContent = `Saved in ${view.path}, the file the knock command reads.`;
  const banner = element('load-error');
  banner.hidden = view.error === undefined;
  banner.textContent = view.error ? `Cannot read the profiles:\n${view.error}` : '';
  element<HTMLButtonElement>('save').disabled = view.error !== undefined;
  renderHosts();
}

/** A new profile: the blank form. */
function editNew(): void {
  if (view !== undefined) edit(view.blank, null);
}

function report(result: SaveResult): boolean {
  if (result.ok) {
    show(result.view);
    status.textContent = result.saved;
    return true;
  }
  if ('errors' in result) showErrors(result.errors);
  status.textContent = 'error' in result ? result.error : 'Not saved: fix the fields in red.';
  return false;
}

function resetDelete(): void {
  confirmingDelete = false;
  deleteButton.textContent = 'Delete';
}

// Check while typing (debounced), so a bad sequence is flagged before Save.
form.addEventListener('input', () => {
  if (view === undefined) return;
  clearTimeout(checkTimer);
  const asked = ++generation;
  checkTimer = setTimeout(() => {
    void api.check(readDraft(), original).then((errors) => {
      if (asked === generation) showErrors(errors);
    });
  }, 250);
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (view === undefined) return;
  clearTimeout(checkTimer);
  generation += 1;
  const draft = readDraft();
  void api.save(draft, original).then((result) => {
    if (report(result)) {
      const saved = view?.profiles.find((p) => p.host === draft.host.trim());
      if (saved) edit(saved, saved.host);
    }
  });
});

element('new').addEventListener('click', () => {
  if (view === undefined) return;
  editNew();
  status.textContent = '';
  input('host').focus();
});

// Two clicks: the first asks, the second deletes.
deleteButton.addEventListener('click', () => {
  if (original === null) return;
  if (!confirmingDelete) {
    confirmingDelete = true;
    deleteButton.textContent = `Really delete ${original}?`;
    return;
  }
  void api.remove(original).then((result) => {
    if (report(result)) editNew();
  });
});

void api.load().then((loaded) => {
  show(loaded);
  const first = loaded.profiles[0];
  if (first) edit(first, first.host);
  else editNew();
});
