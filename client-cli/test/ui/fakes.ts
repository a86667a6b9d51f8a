// The fakes both UIs' tests use live in shared/test/helpers/ui-fakes.ts; the TUI adds its keys and a pause.
export {
  FakeStore,
  ManualKnocker,
  PATH,
  SECRET,
  lab,
  maths,
  rotatingKeys,
} from '../../../shared/test/helpers/ui-fakes.js';

export const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

export const keys = {
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  enter: '\r',
  escape: '\x1b',
  tab: '\t',
  shiftTab: '\x1b[Z',
  backspace: '\x7f',
  ctrlC: '\x03',
};
