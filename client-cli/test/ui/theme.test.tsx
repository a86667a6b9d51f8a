import { Text } from 'ink';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { ThemeContext, colorWanted, useTheme } from '../../src/ui/theme.js';

/** What paint and dim give under a theme, as the component sees them. */
function themed(color: boolean): string {
  function Probe() {
    const { paint, dim } = useTheme();
    const red = paint('red');
    return <Text>{JSON.stringify({ red, hasColor: 'color' in red, dim })}</Text>;
  }
  const view = render(
    <ThemeContext.Provider value={{ color }}>
      <Probe />
    </ThemeContext.Provider>,
  );
  const frame = view.lastFrame() ?? '';
  view.unmount();
  return frame;
}

describe('useTheme', () => {
  it('paints with colours on: Text props that name the colour', () => {
    expect(JSON.parse(themed(true))).toEqual({
      red: { color: 'red' },
      hasColor: true,
      dim: true,
    });
  });

  it('paints nothing with NO_COLOR: no color prop at all, not an undefined one', () => {
    expect(JSON.parse(themed(false))).toEqual({ red: {}, hasColor: false, dim: false });
  });
});

describe('colorWanted', () => {
  it('is off when NO_COLOR is set to anything but the empty string', () => {
    expect(colorWanted({})).toBe(true);
    expect(colorWanted({ NO_COLOR: '' })).toBe(true);
    expect(colorWanted({ NO_COLOR: '1' })).toBe(false);
  });
});
