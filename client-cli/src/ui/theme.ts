import type { TextProps } from 'ink';
import { createContext, useContext } from 'react';

/**
 * Colours on or off: off when NO_COLOR is set (https://no-color.org), so every component
 * asks here instead of naming a colour directly. Bold and inverse stay: they are not colour.
 */
export interface Theme {
  color: boolean;
}

export const ThemeContext = createContext<Theme>({ color: true });

/** A colour as Text props: spread it, `<Text {...paint('red')}>`. */
export type Paint = Pick<TextProps, 'color'>;

/**
 * `paint('red')` is `{ color: 'red' }` with colours on, no colour at all with NO_COLOR;
 * `dim` is whether to dim.
 */
export function useTheme(): { paint: (name: string) => Paint; dim: boolean } {
  const { color } = useContext(ThemeContext);
  return { paint: (name) => (color ? { color: name } : {}), dim: color };
}

/** Colours are wanted unless NO_COLOR is set to anything but the empty string. */
export const colorWanted = (env: NodeJS.ProcessEnv): boolean =>
  env.NO_COLOR === undefined || env.NO_COLOR === '';
