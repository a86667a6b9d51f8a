// A hash table from uint32 keys (IPv4 addresses) to non-negative int32 values (slot
// numbers), in one typed array of (key, value) pairs (a probe touches one cache
// line): no heap object per entry, so a million sources mid-sequence cost ~16–32
// bytes each and nothing for the garbage collector to trace.
// Open addressing with linear probing, Fibonacci hashing, backward-shift deletion
// (no tombstones). It doubles past half full and halves below one eighth full, in
// place: the array sits on a resizable buffer (growable.ts), the entries are parked
// past the new table's end and re-inserted, so a resize leaves nothing behind for the
// garbage collector and a shrink gives the pages back at once.

import { growableArray, resizeArray } from './growable.js';

const EMPTY = -1;
const MIN_BITS = 4;

export class IntTable {
  private bits = MIN_BITS;
  private mask = (1 << MIN_BITS) - 1;
  /** Entry i: key (as int32) at 2i, value at 2i + 1 (EMPTY: free). */
  private pairs: Int32Array;
  private count = 0;

  /** `maxEntries`: the most entries it will hold (address space is reserved for them). */
  constructor(maxEntries = 1 << 20) {
    // The largest table (load ≤ 1/2) plus the parked entries during its last resize.
    let size = 1 << MIN_BITS;
    while (size < 2 * maxEntries) size *= 2;
    const reserve = 2 * (size + (size >>> 1) + 1);
    this.pairs = resizeArray(growableArray(Int32Array, reserve), 2 << MIN_BITS, 0);
    this.pairs.fill(EMPTY);
  }

  get size(): number {
    return this.count;
  }

  /** Slots in the table (for tests and memory accounting). */
  get capacity(): number {
    return this.mask + 1;
  }

  private home(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> (32 - this.bits);
  }

  /** The value for `key`, or -1. */
  get(key: number): number {
    const pairs = this.pairs;
    const k = key | 0;
    let i = this.home(key);
    for (;;) {
      const value = pairs[2 * i + 1]!;
      if (value === EMPTY) return EMPTY;
      if (pairs[2 * i] === k) return value;
      i = (i + 1) & this.mask;
    }
  }

  /** Sets `key` to `value` (value ≥ 0). */
  set(key: number, value: number): void {
    const pairs = this.pairs;
    const k = key | 0;
    let i = this.home(key);
    for (;;) {
      if (pairs[2 * i + 1] === EMPTY) break;
      if (pairs[2 * i] === k) {
        pairs[2 * i + 1] = value;
        return;
      }
      i = (i + 1) & this.mask;
    }
    pairs[2 * i] = k;
    pairs[2 * i + 1] = value;
    this.count++;
    if (this.count * 2 > this.mask + 1) this.rehash(this.bits + 1);
  }

  delete(key: number): boolean {
    const pairs = this.pairs;
    const mask = this.mask;
    const k = key | 0;
    let i = this.home(key);
    for (;;) {
      if (pairs[2 * i + 1] === EMPTY) return false;
      if (pairs[2 * i] === k) break;
      i = (i + 1) & mask;
    }
    // Shift back the entries that probed past the hole.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (pairs[2 * j + 1] === EMPTY) break;
      const h = this.home(pairs[2 * j]!);
      const stays = i <= j ? i < h && h <= j : i < h || h <= j;
      if (!stays) {
        pairs[2 * i] = pairs[2 * j]!;
        pairs[2 * i + 1] = pairs[2 * j + 1]!;
        i = j;
      }
    }
    pairs[2 * i + 1] = EMPTY;
    this.count--;
    if (this.bits > MIN_BITS && this.count * 8 < mask + 1) this.rehash(this.bits - 1);
    return true;
  }

  /** Calls `fn` for every entry (in table order). */
  forEach(fn: (value: number, key: number) => void): void {
    for (let i = 0; i <= this.mask; i++) {
      const value = this.pairs[2 * i + 1]!;
      if (value !== EMPTY) fn(value, this.pairs[2 * i]! >>> 0);
    }
  }

  private rehash(bits: number): void {
    const oldSize = this.mask + 1;
    const size = 1 << bits;
    // Park the live entries past both the old and the new table, then rebuild in front.
    const park = Math.max(oldSize, size);
    const end = park + this.count;
    this.pairs = resizeArray(this.pairs, 2 * end, 2 * oldSize);
    const pairs = this.pairs;
    let j = park;
    for (let i = 0; i < oldSize; i++) {
      const value = pairs[2 * i + 1]!;
      if (value === EMPTY) continue;
      pairs[2 * j] = pairs[2 * i]!;
      pairs[2 * j + 1] = value;
      j++;
    }
    pairs.fill(EMPTY, 0, 2 * size);
    this.bits = bits;
    this.mask = size - 1;
    for (let e = park; e < end; e++) {
      const key = pairs[2 * e]!;
      let at = this.home(key);
      while (pairs[2 * at + 1] !== EMPTY) at = (at + 1) & this.mask;
      pairs[2 * at] = key;
      pairs[2 * at + 1] = pairs[2 * e + 1]!;
    }
    this.pairs = resizeArray(pairs, 2 * size, 2 * size);
  }
}
