import { ExitCode, type Profile } from '@knock/shared';
import type { KnockService } from '@knock/shared/node';
import { useCallback, useRef, type Dispatch } from 'react';
import type { Action } from '../state.js';

/**
 * Returns `knock(profile)`: runs the service and streams its progress into the state, one
 * knock at a time. `profileFile` is where the profiles were read from (a relative
 * one_time_sequences path is read from its folder, as the command line does).
 */
export default function useKnock(
  service: KnockService,
  dispatch: Dispatch<Action>,
  profileFile: string,
): (profile: Profile) => void {
  const running = useRef(false);
  return useCallback(
    (profile: Profile) => {
      // The reducer turns a second start into a "still knocking" notice.
      dispatch({ type: 'knock-start', profile });
      if (running.current) return;
      running.current = true;
      const host = profile.host;
      service
        .knock(profile, (event) => dispatch({ type: 'knock-progress', host, event }), {
          profileFile,
        })
        .then(
          (outcome) => dispatch({ type: 'knock-done', host, outcome }),
          (error: unknown) =>
            dispatch({
              type: 'knock-done',
              host,
              outcome: { status: 'failed', reason: String(error), exitCode: ExitCode.internal },
            }),
        )
        .finally(() => {
          running.current = false;
        });
    },
    [service, dispatch, profileFile],
  );
}
