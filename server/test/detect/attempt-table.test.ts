import { describe, expect, it } from 'vitest';
import { AttemptTable, FLAG_TEXT, MIN_CAPACITY } from '../../src/detect/attempt-table.js';
import { NONE } from '../../src/detect/plan.js';

describe('attempt table', () => {
  it('reuses freed slots first, then doubles, up to its maximum', () => {
    const t = new AttemptTable(3000);
    expect(t.allocated).toBe(MIN_CAPACITY);
    const slots = Array.from({ length: MIN_CAPACITY }, () => t.alloc());
    expect(slots[MIN_CAPACITY - 1]).toBe(MIN_CAPACITY - 1);
    t.free(7);
    t.free(3);
    expect([t.alloc(), t.alloc()]).toEqual([3, 7]);
    expect(t.door[5]).toBe(0);
    t.door[5] = 2;
    expect(t.alloc()).toBe(MIN_CAPACITY);
    expect(t.allocated).toBe(2 * MIN_CAPACITY);
    expect(t.door[5]).toBe(2);
    while (!t.full) t.alloc();
    expect([t.count, t.allocated]).toEqual([3000, 3000]);
  });

  it('gives the source of number- and text-keyed slots', () => {
    const t = new AttemptTable(10);
    const v4 = t.alloc();
    t.key[v4] = 0xc0000207;
    const v6 = t.alloc();
    t.flags[v6] = FLAG_TEXT;
    t.setText(v6, '2001:db8::1');
    expect([t.sourceText(v4), t.sourceKey(v4), t.textKey(v4)]).toEqual([
      '192.0.2.7',
      0xc0000207,
      '',
    ]);
    expect([t.sourceText(v6), t.sourceKey(v6), t.textKey(v6)]).toEqual([
      '2001:db8::1',
      -1,
      '2001:db8::1',
    ]);
    t.free(v6);
    expect([t.count, t.door[v6]]).toEqual([1, NONE]);
  });

  it('compacts live slots to the front in the order given, links and texts following', () => {
    const t = new AttemptTable(4 * MIN_CAPACITY);
    for (let i = 0; i < 2 * MIN_CAPACITY; i++) t.start[t.alloc()] = i;
    for (let i = 0; i < 2 * MIN_CAPACITY; i++) if (i !== 1500 && i !== 100) t.free(i);
    t.next[1500] = 100;
    t.next[100] = NONE;
    t.flags[1500] = FLAG_TEXT;
    t.setText(1500, '2001:db8::9');
    expect(t.mustCompact(MIN_CAPACITY)).toBe(true);
    const order = Int32Array.from([1500, 100]);
    const remap = t.remapOf(order);
    t.compact(MIN_CAPACITY, order, remap);
    expect([t.allocated, t.count]).toEqual([MIN_CAPACITY, 2]);
    expect([t.start[0], t.start[1], t.next[0], t.next[1]]).toEqual([1500, 100, 1, NONE]);
    expect(t.sourceText(0)).toBe('2001:db8::9');
    expect(t.mustCompact(MIN_CAPACITY)).toBe(false);
    expect(t.alloc()).toBe(2);
  });
});
