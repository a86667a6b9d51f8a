import { beforeEach, vi } from 'vitest';
import { mock } from './mocks/electron.js';

// No test may load the real electron (it throws without its binary): every
// `import 'electron'` gets the hand-written mock, reset before each test.
vi.mock('electron', () => import('./mocks/electron.js'));

beforeEach(() => {
  mock.reset();
});
