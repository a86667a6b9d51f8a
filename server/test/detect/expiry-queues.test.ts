import { describe, expect, it } from 'vitest';
import { AttemptTable } from '../../src/detect/attempt-table.js';
import { earliest, ExpiryQueues } from '../../src/detect/expiry-queues.js';
import { NONE } from '../../src/detect/plan.js';

/** A table with one attempt per first-knock time in `starts` (slot i: starts[i]). */
function table(starts: number[]): AttemptTable {
  const t = new AttemptTable(1000);
  for (const start of starts) t.start[t.alloc()] = start;
  return t;
}

/** The slots of queue `q`, head to tail, checked both ways. */
function slots(queues: ExpiryQueues, t: AttemptTable, q: number): number[] {
  const forward: number[] = [];
  for (let s = queues.head[q]!; s !== NONE; s = t.qNext[s]!) forward.push(s);
  const backward: number[] = [];
  for (let s = queues.tail[q]!; s !== NONE; s = t.qPrev[s]!) backward.unshift(s);
  expect(backward).toEqual(forward);
  return forward;
}

describe('earliest', () => {
  const start = Float64Array.from([50, 10, 30, 10]);

  it('is the queue whose head started first, ties to the lowest queue', () => {
    expect(earliest([0, 2, 1, 3], start)).toBe(2);
    expect(earliest([3, 1], start)).toBe(0);
  });

  it('adds each queue its timeout when given: the first deadline', () => {
    // Deadlines 50 + 5, 10 + 100, 30 + 10.
    expect(earliest([0, 1, 2], start, [5, 100, 10])).toBe(2);
  });

  it('skips empty queues and is NONE when all are', () => {
    expect(earliest([NONE, 0, NONE], start)).toBe(1);
    expect(earliest([NONE, NONE], start, [1, 2])).toBe(NONE);
    expect(earliest([], start)).toBe(NONE);
  });
});

describe('expiry queues', () => {
  it('append at the tail, unlink from anywhere, and know the next deadline', () => {
    const t = table([100, 200, 300, 400]);
    const queues = new ExpiryQueues(t);
    queues.replace([1000, 50], () => NONE);
    for (const slot of [0, 2, 3]) queues.append(0, slot);
    queues.append(1, 1);
    expect(slots(queues, t, 0)).toEqual([0, 2, 3]);
    // 100 + 1000 against 200 + 50.
    expect(queues.firstDue()).toBe(1);
    expect(queues.deadline(1)).toBe(250);
    expect(queues.oldest()).toBe(0);
    queues.unlink(0, 2);
    expect(slots(queues, t, 0)).toEqual([0, 3]);
    queues.unlink(0, 0);
    queues.unlink(0, 3);
    expect(slots(queues, t, 0)).toEqual([]);
    queues.unlink(1, 1);
    expect([queues.firstDue(), queues.oldest()]).toEqual([NONE, NONE]);
  });

  it('replace re-queues every attempt oldest first and hands back the dropped ones', () => {
    const t = table([40, 10, 30, 20, 50]);
    const queues = new ExpiryQueues(t);
    queues.replace([1, 2], () => NONE);
    for (const slot of [1, 2, 4]) queues.append(0, slot);
    for (const slot of [3, 0]) queues.append(1, slot);
    const seen: number[] = [];
    // Slot 2 is dropped; even slots go to the new queue 0, odd ones to queue 2.
    const dropped = queues.replace([7, 8, 9], (slot) => {
      seen.push(slot);
      return slot === 2 ? NONE : slot % 2 === 0 ? 0 : 2;
    });
    expect(seen).toEqual([1, 3, 2, 0, 4]);
    expect(dropped).toEqual([2]);
    expect(queues.timeout).toEqual([7, 8, 9]);
    expect(slots(queues, t, 0)).toEqual([0, 4]);
    expect(slots(queues, t, 1)).toEqual([]);
    expect(slots(queues, t, 2)).toEqual([1, 3]);
    expect(Array.from(queues.liveOrder())).toEqual([0, 4, 1, 3]);
  });

  it('follow a compaction of the table', () => {
    const t = table([10, 20, 30, 40]);
    const queues = new ExpiryQueues(t);
    queues.replace([5], () => NONE);
    for (const slot of [1, 3]) queues.append(0, slot);
    const order = queues.liveOrder();
    const remap = t.remapOf(order);
    t.compact(1024, order, remap);
    queues.remap(remap);
    expect(slots(queues, t, 0)).toEqual([0, 1]);
    expect([t.start[0], t.start[1]]).toEqual([20, 40]);
  });
});
