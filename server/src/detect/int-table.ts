// A hash table from uint32 keys (IPv4 addresses) to non-negative int32 values (slot
// numbers), in two typed arrays: no heap object per entry, so a million sources
// mid-sequence cost ~16–32 bytes each and nothing for the garbage collector to trace.
// Open addressing with linear probing, Fibonacci hashing, backward-shift deletion
// (no tombstones). It doubles past half full and halves below one eighth full.

const EMPTY = -1;
const MIN_BITS = 4;

export class IntTable {
  private bits = MIN_BITS;
  private mask = (1 << MIN_BITS) - 1;
  private keys = new Uint32Array(1 << MIN_BITS);
  private values = new Int32Array(1 << MIN_BITS).fill(EMPTY);
  private count = 0;

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
    const keys = this.keys;
    const values = this.values;
    let i = this.home(key);
    for (;;) {
      const value = values[i]!;
      if (value === EMPTY) return EMPTY;
      if (keys[i] === key) return value;
      i = (i + 1) & this.mask;
    }
  }

  /** Sets `key` to `value` (value ≥ 0). */
  set(key: number, value: number): void {
    let i = this.home(key);
    for (;;) {
      const current = this.values[i]!;
      if (current === EMPTY) break;
      if (this.keys[i] === key) {
        this.values[i] = value;
        return;
      }
      i = (i + 1) & this.mask;
    }
    this.keys[i] = key;
    this.values[i] = value;
    this.count++;
    if (this.count * 2 > this.mask + 1) this.rehash(this.bits + 1);
  }

  delete(key: number): boolean {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let i = this.home(key);
    for (;;) {
      if (values[i] === EMPTY) return false;
      if (keys[i] === key) break;
      i = (i + 1) & mask;
    }
    // Shift back the entries that probed past the hole.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (values[j] === EMPTY) break;
      const h = this.home(keys[j]!);
      const stays = i <= j ? i < h && h <= j : i < h || h <= j;
      if (!stays) {
        keys[i] = keys[j]!;
        values[i] = values[j]!;
        i = j;
      }
    }
    values[i] = EMPTY;
    this.count--;
    if (this.bits > MIN_BITS && this.count * 8 < mask + 1) this.rehash(this.bits - 1);
    return true;
  }

  /** Calls `fn` for every entry (in table order). */
  forEach(fn: (value: number, key: number) => void): void {
    for (let i = 0; i <= this.mask; i++) {
      const value = this.values[i]!;
      if (value !== EMPTY) fn(value, this.keys[i]!);
    }
  }

  private rehash(bits: number): void {
    const keys = this.keys;
    const values = this.values;
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.keys = new Uint32Array(1 << bits);
    this.values = new Int32Array(1 << bits).fill(EMPTY);
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      if (value === EMPTY) continue;
      const key = keys[i]!;
      let at = this.home(key);
      while (this.values[at] !== EMPTY) at = (at + 1) & this.mask;
      this.keys[at] = key;
      this.values[at] = value;
    }
  }
}
