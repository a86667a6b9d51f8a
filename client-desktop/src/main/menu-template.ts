import type { Profile } from '@knock/shared';

/** The last knock of one profile, as the menu shows it. */
export interface TrayRun {
  phase: 'knocking' | 'verifying' | 'open' | 'closed' | 'failed' | 'sent';
  /** When this phase began (ms since the epoch): for `open`, when the port answered. */
  since: number;
  port?: number;
}

export interface TrayState {
  path: string;
  profiles: Profile[];
  /** The profile file could not be read: file:line and what to do. */
  loadError?: string;
  /** Hosts whose profile has errors: listed, not clickable (the others work). */
  invalid?: readonly string[];
  /** By host. */
  runs: Readonly<Record<string, TrayRun>>;
}

export type MenuAction = { type: 'knock'; host: string } | { type: 'edit' } | { type: 'quit' };

/** A menu entry as data; electron-ports.ts turns it into Electron's template and wires the clicks. */
export type MenuItem =
  { type: 'separator' } | { type: 'normal'; label: string; enabled: boolean; action?: MenuAction };

/**
 * How long the "opened 3:12 ago" line stays. The profile does not know how long
 * the server grants access, so the menu shows only what the client saw: the time
 * since the port answered. After an hour that stops being useful.
 */
export const ELAPSED_SHOWN_MS = 60 * 60 * 1000;

/** `0:42`, `12:05`, `1:02:03`. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

const busy = (run: TrayRun | undefined): boolean =>
  run !== undefined && (run.phase === 'knocking' || run.phase === 'verifying');

/** Whether a run still changes the menu as time passes (so the clock must keep ticking). */
export const showsElapsed = (run: TrayRun, now: number): boolean =>
  (run.phase === 'open' || run.phase === 'sent') && now - run.since < ELAPSED_SHOWN_MS;

function status(run: TrayRun | undefined, now: number): string {
  if (!run) return '';
  const age = now - run.since;
  switch (run.phase) {
    case 'knocking':
      return 'knocking…';
    case 'verifying':
      return `verifying port ${run.port ?? ''}…`;
    case 'open':
      return age < ELAPSED_SHOWN_MS ? `opened ${formatElapsed(age)} ago` : '';
    case 'sent':
      return age < ELAPSED_SHOWN_MS ? `knocked ${formatElapsed(age)} ago` : '';
    case 'closed':
      return age < ELAPSED_SHOWN_MS ? 'still closed' : '';
    case 'failed':
      return age < ELAPSED_SHOWN_MS ? 'knock failed' : '';
  }
}

const MAX_ERROR_LABEL = 80;

/** The tray menu for a state at time `now`: one entry per profile, then edit and quit. Pure. */
export function menuTemplate(state: TrayState, now: number): MenuItem[] {
  const items: MenuItem[] = [];
  if (state.loadError !== undefined) {
    const text = state.loadError.split('\n')[0] ?? '';
    items.push({
      type: 'normal',
      label: text.length > MAX_ERROR_LABEL ? `${text.slice(0, MAX_ERROR_LABEL - 1)}…` : text,
      enabled: false,
    });
  } else if (state.profiles.length === 0 && (state.invalid ?? []).length === 0) {
    items.push({
      type: 'normal',
      label: 'No profiles yet: add one with Edit profiles…',
      enabled: false,
    });
  }
  for (const profile of state.profiles) {
    // A host may be named like an Object.prototype property (`constructor`): own keys only.
    const run = Object.hasOwn(state.runs, profile.host) ? state.runs[profile.host] : undefined;
    const suffix = status(run, now);
    items.push({
      type: 'normal',
      label: suffix === '' ? profile.host : `${profile.host} — ${suffix}`,
      enabled: !busy(run),
      action: { type: 'knock', host: profile.host },
    });
  }
  for (const host of state.invalid ?? [])
    items.push({
      type: 'normal',
      label: `${host} — has errors (knock check-profiles)`,
      enabled: false,
    });
  items.push(
    { type: 'separator' },
    { type: 'normal', label: 'Edit profiles…', enabled: true, action: { type: 'edit' } },
    { type: 'normal', label: 'Quit knock', enabled: true, action: { type: 'quit' } },
  );
  return items;
}
