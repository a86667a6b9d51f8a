import { expect, it } from 'vitest';
import { skipTitle } from './describe.js';

it('a skipped block says why in its title; a running one has its plain title', () => {
  expect(skipTitle('knock on the wire', 'needs root')).toBe(
    'knock on the wire (skipped: needs root)',
  );
  expect(skipTitle('knock on the wire', undefined)).toBe('knock on the wire');
});
