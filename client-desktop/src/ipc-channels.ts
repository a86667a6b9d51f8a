import type { DraftErrors, ProfileDraft } from '@knock/shared';

/**
 * The one list of IPC channels between the profile window and the main process.
 * The sandboxed preload cannot import this file at runtime, so it repeats the
 * names, checked against this object by the type checker (`satisfies`).
 */
export const IpcChannels = {
  load: 'knock:profiles:load',
  check: 'knock:profiles:check',
  save: 'knock:profiles:save',
  remove: 'knock:profiles:remove',
} as const;

/** The profiles as the window shows them: drafts (text fields), plus where they live. */
export interface ProfilesView {
  path: string;
  profiles: ProfileDraft[];
  /**
   * A new profile's form: emptyDraft() of @knock/shared, its keys the form's fields. The page
   * cannot import @knock/shared (it runs unbundled), so it takes both from here.
   */
  blank: ProfileDraft;
  /** Set when the file cannot be read (file:line and what to do); the window then refuses to save. */
  error?: string;
}

export type SaveResult =
  | { ok: true; view: ProfilesView; saved: string }
  | { ok: false; errors: DraftErrors }
  | { ok: false; error: string };

/** What the preload exposes to the page as `window.knockProfiles`. */
export interface ProfilesApi {
  load(): Promise<ProfilesView>;
  /** Validates a draft without saving (inline errors while typing). */
  check(draft: ProfileDraft, original: string | null): Promise<DraftErrors>;
  /** `original` is the host being edited, or null for a new profile. */
  save(draft: ProfileDraft, original: string | null): Promise<SaveResult>;
  remove(host: string): Promise<SaveResult>;
}

export type { DraftErrors, ProfileDraft };
