import { useEffect, type Dispatch } from 'react';
import type { Action } from '../state.js';

/** The TUI's clock: injected so tests move time by hand. */
export interface TuiClock {
  now(): number;
  /** Calls `fn` every `ms`; returns the function that stops it. */
  every(ms: number, fn: () => void): () => void;
}

export const realClock: TuiClock = {
  now: () => Date.now(),
  every: (ms, fn) => {
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  },
};

/** Ticks the state's clock once a second (the countdowns), and once at the start. */
export default function useClock(clock: TuiClock, dispatch: Dispatch<Action>): void {
  useEffect(() => {
    dispatch({ type: 'tick', now: clock.now() });
    return clock.every(1000, () => dispatch({ type: 'tick', now: clock.now() }));
  }, [clock, dispatch]);
}
