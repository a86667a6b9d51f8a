import { describe, expect, it } from 'vitest';
import { warmUpPacketPath } from '../../src/daemon/warm-up.js';

describe('warmUpPacketPath', () => {
  it('decodes every made-up frame and drives the detector through each kind of outcome', () => {
    const { decoded, actions } = warmUpPacketPath(6400, 200);
    expect(decoded).toBe(6400);
    expect(actions.stage).toBeGreaterThan(1000);
    expect(actions.reset).toBeGreaterThan(100);
    expect(actions.open).toBeGreaterThan(10);
    // Whatever is still in progress at the end times out.
    expect(actions.timeout).toBeGreaterThan(0);
  });
});
