import { useEffect, type Dispatch } from 'react';
import { isFinished, type Action, type TuiState } from '../state.js';

/** How long the last message, and a finished knock's status, stay on screen. */
export const STATUS_MS = 8000;

/** Clears the last message, and a finished knock's status line, after STATUS_MS. */
export default function useExpiry(
  state: TuiState,
  dispatch: Dispatch<Action>,
  ms = STATUS_MS,
): void {
  const id = state.notice?.id;
  useEffect(() => {
    if (id === undefined) return;
    const timer = setTimeout(() => dispatch({ type: 'expire', id }), ms);
    return () => clearTimeout(timer);
  }, [id, ms, dispatch]);
  const finished = isFinished(state) ? state.run : undefined;
  useEffect(() => {
    if (!finished) return;
    const timer = setTimeout(() => dispatch({ type: 'expire', id: -1 }), ms);
    return () => clearTimeout(timer);
  }, [finished, ms, dispatch]);
}
