// The expiry queues: one FIFO of attempts per distinct Seq_Timeout value, linked through
// the attempt table's `qNext`/`qPrev`. Attempts join at the tail at their first knock,
// so the deadlines in a queue grow from head to tail: the next attempt to expire, the
// oldest one to evict and a merge of all attempts oldest first only ever look at the
// heads (earliest()), never at the whole table. Expiring is O(1) amortised.

import type { AttemptTable } from './attempt-table.js';
import { NONE } from './plan.js';

/**
 * The queue whose head comes first, or NONE when every queue is empty: by first-knock
 * time (`start`), plus the queue's timeout when `timeouts` is given (the deadline).
 * Ties go to the lowest queue.
 */
export function earliest(
  heads: readonly number[],
  start: Float64Array,
  timeouts?: readonly number[],
): number {
  let best = NONE;
  let first = 0;
  for (let q = 0; q < heads.length; q++) {
    const slot = heads[q]!;
    if (slot === NONE) continue;
    const at = timeouts === undefined ? start[slot]! : start[slot]! + timeouts[q]!;
    if (best === NONE || at < first) {
      best = q;
      first = at;
    }
  }
  return best;
}

export class ExpiryQueues {
  /** Per queue: its timeout (ms), its first and its last slot (NONE: empty). */
  timeout: number[] = [];
  head: number[] = [];
  tail: number[] = [];

  constructor(private readonly table: AttemptTable) {}

  /** Appends `slot` to queue `q` (its first knock is the latest in the queue). */
  append(q: number, slot: number): void {
    const t = this.table;
    const tail = this.tail[q]!;
    t.qPrev[slot] = tail;
    t.qNext[slot] = NONE;
    if (tail === NONE) this.head[q] = slot;
    else t.qNext[tail] = slot;
    this.tail[q] = slot;
  }

  unlink(q: number, slot: number): void {
    const t = this.table;
    const prev = t.qPrev[slot]!;
    const next = t.qNext[slot]!;
    if (prev === NONE) this.head[q] = next;
    else t.qNext[prev] = next;
    if (next === NONE) this.tail[q] = prev;
    else t.qPrev[next] = prev;
  }

  /** The queue whose head's deadline comes first, or NONE (every queue is empty). */
  firstDue(): number {
    return earliest(this.head, this.table.start, this.timeout);
  }

  /** The deadline of queue `q`'s head (the queue must not be empty). */
  deadline(q: number): number {
    return this.table.start[this.head[q]!]! + this.timeout[q]!;
  }

  /** The attempt with the earliest first knock, or NONE. */
  oldest(): number {
    const q = earliest(this.head, this.table.start);
    return q === NONE ? NONE : this.head[q]!;
  }

  /**
   * Replaces the queues by one per value in `timeouts`, re-queuing every attempt oldest
   * first (a merge of the old queues) into the queue `place(slot)` returns, so every
   * new queue stays sorted by first knock. Returns the slots `place` gave NONE, in that
   * order: they are in no queue any more, and still in the table.
   */
  replace(timeouts: number[], place: (slot: number) => number): number[] {
    const t = this.table;
    const cursors = this.head;
    this.timeout = timeouts;
    this.head = timeouts.map(() => NONE);
    this.tail = timeouts.map(() => NONE);
    const dropped: number[] = [];
    for (;;) {
      const from = earliest(cursors, t.start);
      if (from === NONE) break;
      const slot = cursors[from]!;
      cursors[from] = t.qNext[slot]!;
      const q = place(slot);
      if (q === NONE) dropped.push(slot);
      else this.append(q, slot);
    }
    return dropped;
  }

  /** Every attempt, queue by queue, each queue from head to tail. */
  liveOrder(): Int32Array {
    const t = this.table;
    let live = 0;
    for (const head of this.head)
      for (let slot = head; slot !== NONE; slot = t.qNext[slot]!) live++;
    const order = new Int32Array(live);
    let n = 0;
    for (const head of this.head)
      for (let slot = head; slot !== NONE; slot = t.qNext[slot]!) order[n++] = slot;
    return order;
  }

  /** Re-points the heads and tails after a compaction of the table. */
  remap(remap: Int32Array): void {
    const at = (slot: number): number => (slot === NONE ? slot : remap[slot]!);
    this.head = this.head.map(at);
    this.tail = this.tail.map(at);
  }
}
