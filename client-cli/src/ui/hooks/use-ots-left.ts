import { useEffect, type Dispatch } from 'react';
import type { Action, TuiState } from '../state.js';

/** Counts the unused sequences of each one-time file in the list (after a load and each knock). */
export default function useOtsLeft(
  count: ((path: string) => Promise<number | undefined>) | undefined,
  state: TuiState,
  dispatch: Dispatch<Action>,
): void {
  const paths = state.profiles
    .map((p) => p.oneTimeSequences)
    .filter((p): p is string => p !== undefined)
    .join('\n');
  const knocked = state.run?.phase;
  useEffect(() => {
    if (!count || paths === '') return;
    let live = true;
    for (const path of paths.split('\n'))
      count(path).then(
        (left) => {
          if (live && left !== undefined) dispatch({ type: 'ots-left', path, left });
        },
        () => undefined,
      );
    return () => {
      live = false;
    };
  }, [count, paths, knocked, dispatch]);
}
