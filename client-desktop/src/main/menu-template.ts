import type { Profile } from '@knock/shared';

/** The last knock of one profile, as the menu shows it. */
export interface TrayRun {
  phase: 'knocking' | 'verifying' | 'open' | 'closed' | 'failed' | 'sent';
  /** When this phase began (ms since the epoch): for `open`, when the port answered. */
  since: number;
  port?: number;
  /** When the grant runs out (the profile's open_for after it opened): the countdown. */
  until?: number;
  /** The "a minute left" notification went out for this grant. */
  warned?: boolean;
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
  /** "Open at login" (undefined: the platform cannot say; the entry is left out). */
  openAtLogin?: boolean;
}

export type MenuAction =
  | { type: 'knock'; host: string }
  | { type: 'close'; host: string }
  | { type: 'knock-all' }
  | { type: 'login'; open: boolean }
  | { type: 'edit' }
  | { type: 'quit' };

/** A menu entry as data; electron-menu.ts turns it into Electron's template and wires the clicks. */
export type MenuItem =
  | { type: 'separator' }
  | { type: 'normal'; label: string; enabled: boolean; action?: MenuAction }
  | { type: 'checkbox'; label: string; checked: boolean; enabled: boolean; action: MenuAction };

/** Seconds of a grant left at `now` (undefined: no countdown, or it ran out). */
export function grantLeft(run: TrayRun | undefined, now: number): number | undefined {
  if (run?.until === undefined || (run.phase !== 'open' && run.phase !== 'sent')) return undefined;
  const left = Math.ceil((run.until - now) / 1000);
  return left > 0 ? left : undefined;
}

export type TrayIconState = 'idle' | 'knocking' | 'open' | 'failed';

/** The tray icon for a state: knocking while any knock runs, else failed, open or idle. Pure. */
export function trayIcon(state: TrayState, now: number): TrayIconState {
  const runs = Object.values(state.runs);
  if (runs.some(busy)) return 'knocking';
  const recent = runs.filter((r) => now - r.since < ELAPSED_SHOWN_MS);
  const latest = recent.sort((a, b) => b.since - a.since)[0];
  if (latest && (latest.phase === 'failed' || latest.phase === 'closed')) return 'failed';
  if (
    runs.some(
      (r) => grantLeft(r, now) !== undefined || (r.until === undefined && showsElapsed(r, now)),
    )
  )
    return 'open';
  return 'idle';
}

/** The tooltip: each opened host and its time left ("ssh.maths.fr: open, 4:12 left"). Pure. */
export function tooltipText(state: TrayState, now: number): string {
  const lines = state.profiles.flatMap((p) => {
    const run = Object.hasOwn(state.runs, p.host) ? state.runs[p.host] : undefined;
    const left = grantLeft(run, now);
    if (left !== undefined) return [`${p.host}: open, ${formatElapsed(left * 1000)} left`];
    if (run && busy(run)) return [`${p.host}: knocking…`];
    return [];
  });
  return lines.length > 0 ? lines.join('\n') : 'knock: click a host to knock';
}

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
  (run.phase === 'open' || run.phase === 'sent') &&
  (run.until !== undefined ? run.until > now : now - run.since < ELAPSED_SHOWN_MS);

function status(run: TrayRun | undefined, now: number): string {
  if (!run) return '';
  const age = now - run.since;
  if (run.until !== undefined && (run.phase === 'open' || run.phase === 'sent')) {
    const left = grantLeft(run, now);
    return left === undefined ? '' : `open, ${formatElapsed(left * 1000)} left`;
  }
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
  // "Close HOST" for each host knocked open whose profile has a close_sequence.
  const closable = state.profiles.filter((p) => {
    const run = Object.hasOwn(state.runs, p.host) ? state.runs[p.host] : undefined;
    return p.closeSequence !== undefined && run !== undefined && showsElapsed(run, now);
  });
  if (closable.length > 0) items.push({ type: 'separator' });
  for (const p of closable)
    items.push({
      type: 'normal',
      label: `Close ${p.host}`,
      enabled: true,
      action: { type: 'close', host: p.host },
    });
  items.push({ type: 'separator' });
  if (state.profiles.length > 1)
    items.push({
      type: 'normal',
      label: 'Knock all',
      enabled: !state.profiles.some((p) =>
        busy(Object.hasOwn(state.runs, p.host) ? state.runs[p.host] : undefined),
      ),
      action: { type: 'knock-all' },
    });
  if (state.openAtLogin !== undefined)
    items.push({
      type: 'checkbox',
      label: 'Open at login',
      checked: state.openAtLogin,
      enabled: true,
      action: { type: 'login', open: !state.openAtLogin },
    });
  items.push(
    { type: 'normal', label: 'Edit profiles…', enabled: true, action: { type: 'edit' } },
    { type: 'normal', label: 'Quit knock', enabled: true, action: { type: 'quit' } },
  );
  return items;
}
