import { createContext, useContext } from 'react';

/**
 * Colours on or off: off when NO_COLOR is set (https://no-color.org), so every component
 * asks here instead of naming a colour directly. Bold and inverse stay: they are not colour.
 */
export interface Theme {
  color: boolean;
}

export const ThemeContext = createContext<Theme>({ color: true });

/** `paint('red')` is 'red' with colours on, undefined with NO_COLOR; `dim` likewise. */
export function useTheme(): { paint: (name: string) => string | undefined; dim: boolean } {
  const { color } = useContext(ThemeContext);
  return { paint: (name) => (color ? name : undefined), dim: color };
}

/** Colours are wanted unless NO_COLOR is set to anything but the empty string. */
export const colorWanted = (env: NodeJS.ProcessEnv): boolean =>
  env.NO_COLOR === undefined || env.NO_COLOR === '';
