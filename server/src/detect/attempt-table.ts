// The attempt table: one attempt of one source on one door = one slot in parallel typed
// arrays (~37 bytes), no JS object per attempt. The arrays live in resizable
// ArrayBuffers (growable.ts: address space reserved for `maxAttempts`, pages committed
// as they are used): they double in place when full, without a copy or a pause, and
// compact when three quarters empty, giving the pages back at once, so memory comes
// back after a flood without waiting for the garbage collector.
//
// The table owns the slots and their fields; what links them (a source's chain in
// `next`, a queue's in `qNext`/`qPrev`) is written by the detector and the expiry
// queues. Free slots are chained through `next` as well.

import { growableArray, resizeArray, type GrowableArray } from './growable.js';
import { NONE } from './plan.js';
import { ipv4Text } from './source-index.js';

/** Slots allocated at least (and at first). */
export const MIN_CAPACITY = 1024;

/** `flags`: the last step was TCP (then `port`/`seq` identify it). */
export const FLAG_TCP = 1;
/** `flags`: the source is an IPv6 address. */
export const FLAG_V6 = 2;
/** `flags`: the source is keyed by its text (`key` unused, the text is in the table). */
export const FLAG_TEXT = 4;

export class AttemptTable {
  /** The door (its index in the detector's plans), NONE in a free slot. */
  door: Int32Array;
  /** Knocks taken. */
  stage: Uint8Array;
  /** FLAG_* bits. */
  flags: Uint8Array;
  /** Source port and TCP sequence number of the last step. */
  port: Uint16Array;
  seq: Uint32Array;
  /** The IPv4 address, for number-keyed sources. */
  key: Uint32Array;
  /** First knock time (ms). */
  start: Float64Array;
  /** Next attempt of the same source (door order); next free slot in a free one. */
  next: Int32Array;
  /** Next and previous attempt in the same expiry queue. */
  qNext: Int32Array;
  qPrev: Int32Array;
  /** The source text of text-keyed slots: one copy per source, shared by its slots. */
  private slotText = new Map<number, string>();

  /** Attempts in the table. */
  count = 0;
  /** Slots the arrays hold. */
  allocated = 0;
  /** Every slot ever used since the last compaction is below this. */
  private highWater = 0;
  private freeHead = NONE;

  constructor(readonly maxAttempts: number) {
    const max = maxAttempts;
    this.door = growableArray(Int32Array, max);
    this.stage = growableArray(Uint8Array, max);
    this.flags = growableArray(Uint8Array, max);
    this.port = growableArray(Uint16Array, max);
    this.seq = growableArray(Uint32Array, max);
    this.key = growableArray(Uint32Array, max);
    this.start = growableArray(Float64Array, max);
    this.next = growableArray(Int32Array, max);
    this.qNext = growableArray(Int32Array, max);
    this.qPrev = growableArray(Int32Array, max);
    this.resize(Math.min(MIN_CAPACITY, maxAttempts));
  }

  get full(): boolean {
    return this.count >= this.maxAttempts;
  }

  /** A new attempt's slot (the caller fills it in); the table must not be full. */
  alloc(): number {
    this.count++;
    if (this.freeHead !== NONE) {
      const slot = this.freeHead;
      this.freeHead = this.next[slot]!;
      return slot;
    }
    if (this.highWater === this.allocated) {
      this.resize(Math.min(this.allocated * 2, this.maxAttempts));
    }
    return this.highWater++;
  }

  free(slot: number): void {
    if ((this.flags[slot]! & FLAG_TEXT) !== 0) this.slotText.delete(slot);
    this.flags[slot] = 0;
    this.door[slot] = NONE;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
    this.count--;
  }

  setText(slot: number, text: string): void {
    this.slotText.set(slot, text);
  }

  /** The source's address as the packets gave it. */
  sourceText(slot: number): string {
    return (this.flags[slot]! & FLAG_TEXT) !== 0
      ? this.slotText.get(slot)!
      : ipv4Text(this.key[slot]!);
  }

  /** The slot's source key for the source index: the IPv4 number, or -1 (keyed by text). */
  sourceKey(slot: number): number {
    return (this.flags[slot]! & FLAG_TEXT) !== 0 ? -1 : this.key[slot]!;
  }

  /** The Map key of a text-keyed slot ('' for number-keyed ones: not used then). */
  textKey(slot: number): string {
    return (this.flags[slot]! & FLAG_TEXT) !== 0 ? this.slotText.get(slot)! : '';
  }

  /** Whether a compaction to `capacity` slots would move live slots (see compact()). */
  mustCompact(capacity: number): boolean {
    return capacity < this.highWater;
  }

  /**
   * Grows or shrinks the arrays to `capacity` slots, keeping every index: only when
   * no slot in use is at `capacity` or above (mustCompact() is false).
   */
  resize(capacity: number): void {
    const keep = this.highWater;
    this.moveArrays(<T extends GrowableArray>(old: T): T => resizeArray(old, capacity, keep));
    this.allocated = capacity;
  }

  /**
   * Shrinks to `capacity` slots, moving the live slots `order` (every one, in queue
   * order) to 0..order.length-1; `remap` (from remapOf) gives each one's new index.
   * The links in `next`, `qNext` and `qPrev` follow; the caller re-points whatever
   * else holds a slot number (the source index, the queue heads).
   */
  compact(capacity: number, order: Int32Array, remap: Int32Array): void {
    const at = (slot: number): number => (slot === NONE ? slot : remap[slot]!);
    const move = <T extends GrowableArray>(old: T, links: boolean): T => {
      // The live values in queue order (few: a compaction happens three quarters empty).
      const kept = new (old.constructor as new (n: number) => T)(order.length);
      for (let i = 0; i < order.length; i++) {
        const value = old[order[i]!]!;
        kept[i] = links ? at(value) : value;
      }
      return resizeArray(old, capacity, 0, kept);
    };
    const slotText = new Map<number, string>();
    for (const [slot, text] of this.slotText) slotText.set(remap[slot]!, text);
    this.slotText = slotText;
    this.moveArrays(move);
    this.highWater = order.length;
    this.freeHead = NONE;
    this.allocated = capacity;
  }

  /**
   * Replaces each array by `move(array, links)`: the one list of the fields, for resize()
   * and compact(). `links` is true for `next`, `qNext` and `qPrev`, which hold slot numbers.
   */
  private moveArrays(move: <T extends GrowableArray>(old: T, links: boolean) => T): void {
    this.door = move(this.door, false);
    this.stage = move(this.stage, false);
    this.flags = move(this.flags, false);
    this.port = move(this.port, false);
    this.seq = move(this.seq, false);
    this.key = move(this.key, false);
    this.start = move(this.start, false);
    this.next = move(this.next, true);
    this.qNext = move(this.qNext, true);
    this.qPrev = move(this.qPrev, true);
  }

  /** Each slot's index after a compaction that keeps `order` (NONE: not kept). */
  remapOf(order: Int32Array): Int32Array {
    const remap = new Int32Array(this.allocated).fill(NONE);
    for (let i = 0; i < order.length; i++) remap[order[i]!] = i;
    return remap;
  }
}
