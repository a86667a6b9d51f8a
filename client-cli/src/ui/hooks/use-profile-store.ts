import { describeError } from '@knock/shared';
import { useEffect, type Dispatch } from 'react';
import type { ProfileStore } from '@knock/shared/node';
import type { Action, TuiState } from '../state.js';

/**
 * Loads the profile file when the state asks for it (start, `r`), and applies the one change
 * the reducer queued (the store re-reads the file under its lock and edits only that profile).
 */
export default function useProfileStore(
  store: ProfileStore,
  state: TuiState,
  dispatch: Dispatch<Action>,
): void {
  const loading = state.status === 'loading';
  useEffect(() => {
    if (!loading) return;
    let live = true;
    store.load().then(
      (loaded) => {
        if (live) dispatch({ type: 'loaded', ...loaded });
      },
      (error: unknown) => {
        if (live) dispatch({ type: 'load-failed', message: describeError(error).text });
      },
    );
    return () => {
      live = false;
    };
  }, [loading, store, dispatch]);

  const { saving, path } = state;
  useEffect(() => {
    if (!saving) return;
    store.update(saving.change).then(
      (loaded) => dispatch({ type: 'saved', loaded }),
      (error: unknown) =>
        dispatch({
          type: 'save-failed',
          message: `could not save ${path}: ${describeError(error).text}`,
        }),
    );
  }, [saving, path, store, dispatch]);
}
