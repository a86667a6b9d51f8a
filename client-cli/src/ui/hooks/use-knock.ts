import { ExitCode, type Profile } from '@knock/shared';
import type { KnockService } from '@knock/shared/node';
import { useCallback, useRef, type Dispatch } from 'react';
import type { Action, RunMode } from '../state.js';

/**
 * Returns `knock(profile)`: runs the service and streams its progress into the state, one
 * knock at a time. `profileFile` is where the profiles were read from (a relative
 * one_time_sequences path is read from its folder, as the command line does).
 */
export default function useKnock(
  service: KnockService,
  dispatch: Dispatch<Action>,
  profileFile: string,
  now: () => number = Date.now,
): (profile: Profile, mode?: RunMode) => void {
  const running = useRef(false);
  return useCallback(
    (profile: Profile, mode: RunMode = 'knock') => {
      // The reducer turns a second start into a "still knocking" notice.
      dispatch({ type: 'knock-start', profile, mode });
      if (running.current) return;
      running.current = true;
      const host = profile.host;
      service
        .knock(profile, (event) => dispatch({ type: 'knock-progress', host, event }), {
          profileFile,
          mode,
        })
        .then(
          (outcome) => dispatch({ type: 'knock-done', host, outcome, at: now() }),
          (error: unknown) =>
            dispatch({
              type: 'knock-done',
              host,
              outcome: { status: 'failed', reason: String(error), exitCode: ExitCode.internal },
              at: now(),
            }),
        )
        .finally(() => {
          running.current = false;
        });
    },
    [service, dispatch, profileFile, now],
  );
}
