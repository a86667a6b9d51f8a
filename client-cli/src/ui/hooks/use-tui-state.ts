import { useCallback, useRef, useState } from 'react';
import { reducer, type Action, type TuiState } from '../state.js';

/**
 * useReducer, plus a ref that is current as soon as an action is dispatched.
 * Keys can arrive faster than React re-renders (a paste, a fast typist after
 * `a`): reading the screen from the ref keeps each key on the right screen.
 */
export default function useTuiState(
  initial: () => TuiState,
): [TuiState, (action: Action) => void, { readonly current: TuiState }] {
  const [state, setState] = useState(initial);
  const latest = useRef(state);
  const dispatch = useCallback((action: Action) => {
    latest.current = reducer(latest.current, action);
    setState(latest.current);
  }, []);
  return [state, dispatch, latest];
}
