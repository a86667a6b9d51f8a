import { describe, expect, it } from 'vitest';
import { growableArray, isGrowable, resizeArray } from '../../src/detect/growable.js';

describe('growable arrays', () => {
  it('grow in place, keeping their values, with new elements at 0', () => {
    let a = growableArray(Int32Array, 1 << 20);
    expect(isGrowable(a)).toBe(true);
    const first = a;
    a = resizeArray(a, 1000, 0);
    a.fill(-1);
    a = resizeArray(a, 1 << 20, 1000);
    expect(a).toBe(first);
    expect(a.length).toBe(1 << 20);
    expect(a[999]).toBe(-1);
    expect(a[1000]).toBe(0);
    expect(a[(1 << 20) - 1]).toBe(0);
  });

  it('shrink to what is kept; values past it read 0 when they grow back', () => {
    let a = resizeArray(growableArray(Float64Array, 4096), 4096, 0);
    a.fill(2.5);
    a = resizeArray(a, 2048, 10);
    expect(a.length).toBe(2048);
    expect([a[9], a[10], a[2047]]).toEqual([2.5, 0, 0]);
    a = resizeArray(a, 4096, 2048);
    expect(a[4095]).toBe(0);
  });

  it('take a replacement for their first elements (compaction)', () => {
    let a = resizeArray(growableArray(Uint16Array, 100), 100, 0);
    a.fill(7);
    a = resizeArray(a, 20, 0, Uint16Array.from([1, 2, 3]));
    expect([...a.subarray(0, 5)]).toEqual([1, 2, 3, 0, 0]);
    expect(a.length).toBe(20);
  });

  it('past their reservation, are copied into a plain array, values kept', () => {
    let a = resizeArray(growableArray(Uint8Array, 8), 8, 0);
    a.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const grown = resizeArray(a, 16, 8);
    expect(grown).not.toBe(a);
    expect(isGrowable(grown)).toBe(false);
    expect([...grown]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
    a = resizeArray(grown, 4, 4, Uint8Array.from([9]));
    expect([...a]).toEqual([9, 0, 0, 0]);
  });
});
