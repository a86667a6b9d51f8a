import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IntTable } from '../../src/detect/int-table.js';

describe('IntTable', () => {
  it('behaves like a Map under any sequence of sets and deletes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            // A few hot keys (many collisions and re-sets) plus the extremes of uint32.
            key: fc.oneof(
              fc.integer({ min: 0, max: 40 }),
              fc.constantFrom(0xffffffff, 0x80000000, 0x7fffffff),
              fc.integer({ min: 0, max: 0xffffffff }),
            ),
            value: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
            remove: fc.boolean(),
          }),
          { maxLength: 300 },
        ),
        (ops) => {
          const table = new IntTable();
          const model = new Map<number, number>();
          for (const { key, value, remove } of ops) {
            if (remove) {
              expect(table.delete(key)).toBe(model.delete(key));
            } else {
              table.set(key, value);
              model.set(key, value);
            }
            expect(table.size).toBe(model.size);
          }
          for (const [key, value] of model) expect(table.get(key)).toBe(value);
          const seen = new Map<number, number>();
          table.forEach((value, key) => seen.set(key, value));
          expect(seen).toEqual(model);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('grows past half full and gives memory back when emptied', () => {
    const table = new IntTable();
    for (let i = 0; i < 100_000; i++) table.set(i * 4099, i);
    expect(table.size).toBe(100_000);
    expect(table.capacity).toBeGreaterThanOrEqual(200_000);
    // One expect for the whole table: 100,000 expect calls took seconds on a loaded machine.
    const misread: number[] = [];
    for (let i = 0; i < 100_000; i++) if (table.get(i * 4099) !== i) misread.push(i);
    expect(misread).toEqual([]);
    expect(table.get(7)).toBe(-1);
    const undeleted: number[] = [];
    for (let i = 0; i < 100_000; i++) if (!table.delete(i * 4099)) undeleted.push(i);
    expect(undeleted).toEqual([]);
    expect(table.size).toBe(0);
    expect(table.capacity).toBeLessThanOrEqual(16);
  });
});
