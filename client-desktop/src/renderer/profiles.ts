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
// this app's files). So the field list and the blank form below repeat DRAFT_FIELDS and
// emptyDraft() from @knock/shared; the types keep their shape and the window test
// (test/renderer/profile-window.test.ts) checks that the blank form equals emptyDraft().
const FIELDS = [
  'host',
  'sequence',
  'oneTimeSequences',
  'port',
  'family',
  'delayMs',
  'openFor',
  'closeSequence',
  'keepOpen',
] as const satisfies readonly (keyof ProfileDraft)[];
type Field = (typeof FIELDS)[number];

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

let view: ProfilesView = { path: '', profiles: [] };
/** The host being edited, or null for a new profile. */
let original: string | null = null;
let confirmingDelete = false;
let checkTimer: ReturnType<typeof setTimeout> | undefined;
/** Bumped on every edit and save, so a late check answer never overwrites newer errors. */
let generation = 0;

const blank = (): ProfileDraft => ({
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

function readDraft(): ProfileDraft {
  const value = (field: Field) => input(field).value;
  return {
    host: value('host'),
    sequence: value('sequence'),
    oneTimeSequences: value('oneTimeSequences'),
    port: value('port'),
    family: value('family') as ProfileDraft['family'],
    delayMs: value('delayMs'),
    openFor: value('openFor'),
    closeSequence: value('closeSequence'),
    keepOpen: value('keepOpen') as ProfileDraft['keepOpen'],
  };
}

function showErrors(errors: DraftErrors): void {
  for (const field of FIELDS) {
    const message = errors[field];
    element(`error-${field}`).textContent = message ?? '';
    input(field).setAttribute('aria-invalid', message === undefined ? 'false' : 'true');
  }
}

function edit(draft: ProfileDraft, host: string | null): void {
  original = host;
  for (const field of FIELDS) input(field).value = draft[field];
  element('form-title').textContent = host === null ? 'New profile' : `Edit ${host}`;
  deleteButton.hidden = host === null;
  resetDelete();
  showErrors({});
  renderHosts();
}

function renderHosts(): void {
  const list = element<HTMLUListElement>('hosts');
  list.replaceChildren(
    ...view.profiles.map((draft) => {
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
  clearTimeout(checkTimer);
  generation += 1;
  const draft = readDraft();
  void api.save(draft, original).then((result) => {
    if (report(result)) {
      const saved = view.profiles.find((p) => p.host === draft.host.trim());
      if (saved) edit(saved, saved.host);
    }
  });
});

element('new').addEventListener('click', () => {
  edit(blank(), null);
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
    if (report(result)) edit(blank(), null);
  });
});

void api.load().then((loaded) => {
  show(loaded);
  const first = loaded.profiles[0];
  if (first) edit(first, first.host);
  else edit(blank(), null);
});
