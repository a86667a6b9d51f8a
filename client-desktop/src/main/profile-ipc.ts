import {
  DRAFT_FIELDS,
  KEEP_OPEN_CHOICES,
  FAMILIES,
  describeError,
  draftFromProfile,
  emptyDraft,
  validateDraft,
  type DraftErrors,
  type Profile,
  type ProfileDraft,
} from '@knock/shared';
import type { ProfileChange, ProfileStore } from '@knock/shared/node';
import { IpcChannels, type ProfilesView, type SaveResult } from '../ipc-channels.js';

/** The part of Electron's IpcMainInvokeEvent we look at. */
export interface IpcEventLike {
  sender: unknown;
  senderFrame: { url: string } | null;
}

/** The part of Electron's ipcMain we use (electron.ipcMain fits it). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface ProfileIpcOptions {
  ipcMain: IpcMainLike;
  /** True only for messages from the app's own profile window, showing its own page. */
  isTrusted(event: IpcEventLike): boolean;
  store: ProfileStore;
  /** Called after every successful write (the tray reloads its menu). */
  onSaved(): void;
  /** A service name's port (`ssh` → 22), from /etc/services, for the verify port. */
  servicePort?: (name: string) => number | undefined;
}

/** Longest text accepted in a field: far more than any host, sequence or path needs. */
const MAX_FIELD = 4096;

export class IpcRejected extends Error {
  constructor(channel: string, why: string) {
    super(`knock: rejected a message on ${channel}: ${why}`);
    this.name = 'IpcRejected';
  }
}

/** A draft exactly as the window sends it, or undefined for anything else. */
export function parseDraft(value: unknown): ProfileDraft | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length !== DRAFT_FIELDS.length || !DRAFT_FIELDS.every((f) => keys.includes(f)))
    return undefined;
  for (const field of DRAFT_FIELDS) {
    const v = record[field];
    if (typeof v !== 'string' || v.length > MAX_FIELD) return undefined;
  }
  if (!FAMILIES.includes(record['family'] as Profile['family'])) return undefined;
  if (!KEEP_OPEN_CHOICES.includes(record['keepOpen'] as ProfileDraft['keepOpen'])) return undefined;
  return { ...(record as unknown as ProfileDraft) };
}

const parseHost = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_FIELD ? value : undefined;

/** The arguments of check and save: a draft and the host it was opened for (null: a new profile). */
function draftArgs(channel: string, raw: unknown[]) {
  const draft = parseDraft(raw[0]);
  if (!draft) throw new IpcRejected(channel, 'not a profile draft');
  const original = raw[1] === null ? null : parseHost(raw[1]);
  if (original === undefined) throw new IpcRejected(channel, 'bad original host');
  if (raw.length > 2) throw new IpcRejected(channel, 'unexpected arguments');
  return { draft, original };
}

/** The draft checked with the file's other profiles (a duplicate host is an error). */
function validateAgainst(
  profiles: Profile[],
  draft: ProfileDraft,
  original: string | null,
  servicePort: ProfileIpcOptions['servicePort'],
) {
  const base = profiles.find((p) => p.host === original);
  return {
    base,
    result: validateDraft(
      draft,
      profiles.filter((p) => p !== base),
      base,
      servicePort ? { servicePort } : {},
    ),
  };
}

/**
 * Serves the profile window: load, check, save, remove. Every message is
 * checked twice: it must come from our own window (isTrusted), and its payload
 * must have exactly the expected shape; anything else is rejected unread.
 * Saves go through the store, which re-reads the file under its lock and changes only
 * the one profile (comments, order and other profiles stay); a profile changed by
 * another program since the window showed it is not overwritten: the save is refused.
 * Returns a function that removes the handlers.
 */
export function registerProfileIpc(options: ProfileIpcOptions): () => void {
  const { ipcMain, isTrusted, store, onSaved, servicePort } = options;

  const guard =
    (channel: string, run: (args: unknown[]) => Promise<unknown>) =>
    (event: IpcEventLike, ...args: unknown[]) => {
      if (!isTrusted(event)) throw new IpcRejected(channel, 'not from the profile window');
      return run(args);
    };

  // The profiles as the window last showed them: a save is refused if its profile has
  // changed in the file since (another program wrote it), instead of overwriting that change.
  let shown = new Map<string, Profile>();
  const remember = (profiles: readonly Profile[]) => {
    shown = new Map(profiles.map((p) => [p.host, p]));
  };

  const view = async (): Promise<ProfilesView> => {
    try {
      const loaded = await store.load();
      remember(loaded.profiles);
      return {
        path: loaded.path,
        profiles: loaded.profiles.map(draftFromProfile),
        blank: emptyDraft(),
      };
    } catch (error) {
      remember([]);
      return {
        path: store.path,
        profiles: [],
        blank: emptyDraft(),
        error: describeError(error).text,
      };
    }
  };

  const loadForWrite = async (): Promise<Profile[] | { error: string }> => {
    try {
      return (await store.load()).profiles;
    } catch (error) {
      return {
        error: `${describeError(error).text}\nFix the file first: saving now would overwrite it.`,
      };
    }
  };

  /** Applies one change (the store edits only that profile, under the file's lock). */
  const write = async (change: ProfileChange, saved: string): Promise<SaveResult> => {
    try {
      await store.update(change);
    } catch (error) {
      return { ok: false, error: `could not save ${store.path}: ${describeError(error).text}` };
    }
    onSaved();
    return { ok: true, view: await view(), saved };
  };

  const validate = (profiles: Profile[], draft: ProfileDraft, original: string | null) =>
    validateAgainst(profiles, draft, original, servicePort);

  ipcMain.handle(
    IpcChannels.load,
    guard(IpcChannels.load, async (raw) => {
      if (raw.length > 0) throw new IpcRejected(IpcChannels.load, 'unexpected arguments');
      return view();
    }),
  );

  ipcMain.handle(
    IpcChannels.check,
    guard(IpcChannels.check, async (raw): Promise<DraftErrors> => {
      const { draft, original } = draftArgs(IpcChannels.check, raw);
      const profiles = await loadForWrite();
      const { result } = validate(Array.isArray(profiles) ? profiles : [], draft, original);
      return result.ok ? {} : result.errors;
    }),
  );

  ipcMain.handle(
    IpcChannels.save,
    guard(IpcChannels.save, async (raw): Promise<SaveResult> => {
      const { draft, original } = draftArgs(IpcChannels.save, raw);
      const profiles = await loadForWrite();
      if (!Array.isArray(profiles)) return { ok: false, error: profiles.error };
      if (original !== null && !profiles.some((p) => p.host === original))
        return {
          ok: false,
          error: `${original} is no longer in ${store.path} (changed elsewhere?): reload`,
        };
      const { base, result } = validate(profiles, draft, original);
      if (!result.ok) return { ok: false, errors: result.errors };
      const previous = original === null ? undefined : (shown.get(original) ?? base);
      return write(
        {
          type: 'put',
          original: base ? base.host : null,
          profile: result.profile,
          ...(previous ? { previous } : {}),
        },
        `saved ${result.profile.host} to ${store.path}`,
      );
    }),
  );

  ipcMain.handle(
    IpcChannels.remove,
    guard(IpcChannels.remove, async (raw): Promise<SaveResult> => {
      const host = parseHost(raw[0]);
      if (host === undefined || raw.length !== 1)
        throw new IpcRejected(IpcChannels.remove, 'expected one host name');
      const profiles = await loadForWrite();
      if (!Array.isArray(profiles)) return { ok: false, error: profiles.error };
      if (!profiles.some((p) => p.host === host))
        return { ok: false, error: `no profile for ${host} in ${store.path}` };
      const previous = shown.get(host);
      return write({ type: 'delete', host, ...(previous ? { previous } : {}) }, `deleted ${host}`);
    }),
  );

  return () => {
    for (const channel of Object.values(IpcChannels)) ipcMain.removeHandler(channel);
  };
}
