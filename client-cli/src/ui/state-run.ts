/**
 * A knock run in the TUI (state.ts's reducer hands it the knock actions): the status line
 * as the knock service reports progress, and the grants' countdowns after it.
 */
import type { KnockOutcome, KnockServiceProgress } from '@knock/shared/node';
import type { Profile } from '@knock/shared';
import type { KnockRun, RunMode, TuiState } from './state.js';

/** A run as it starts: the knocks it will send (a one-time file's appear as they go). */
export function newRun(profile: Profile, mode: RunMode | undefined): KnockRun {
  return {
    host: profile.host,
    mode: mode ?? 'knock',
    knocks:
      mode === 'verify'
        ? []
        : mode === 'close'
          ? [...(profile.closeSequence ?? [])]
          : profile.sequence
            ? [...profile.sequence]
            : [],
    sent: 0,
    phase: 'resolving',
  };
}

/**
 * The countdowns after a run: a knock that opened (or was sent) starts the host's
 * open_for; a close ends it; a verify that found the port closed ends it too.
 */
export function grantsAfter(
  state: TuiState,
  run: KnockRun,
  outcome: KnockOutcome,
  at: number,
): TuiState['grants'] {
  const { [run.host]: _, ...others } = state.grants;
  const profile = state.profiles.find((p) => p.host === run.host);
  const opened = outcome.status === 'open' || outcome.status === 'sent';
  if (run.mode === 'knock' && opened && profile?.openFor !== undefined)
    return {
      ...others,
      [run.host]: { until: at + profile.openFor * 1000, openFor: profile.openFor },
    };
  if (run.mode === 'close' && outcome.status === 'sent') return others;
  if (run.mode === 'verify' && outcome.status === 'closed') return others;
  return state.grants;
}

export function progress(run: KnockRun, event: KnockServiceProgress): KnockRun {
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

export function finish(run: KnockRun, outcome: KnockOutcome): KnockRun {
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

export function updateRun(
  state: TuiState,
  host: string,
  change: (run: KnockRun) => KnockRun,
): TuiState {
  if (!state.run || state.run.host !== host) return state;
  return { ...state, run: change(state.run) };
}
