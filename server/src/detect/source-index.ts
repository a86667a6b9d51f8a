// The source index: from a source address to the slot of its first attempt. IPv4
// sources (the flood case) live in typed hash tables keyed by the address as a number
// (int-table.ts): nothing on the JS heap per source, ~50 MB and no GC work for a million
// spoofed sources. Anything else (IPv6) is keyed by its text in Maps. Both are sharded,
// so no single table ever rehashes a million entries at once.
//
// A source key is a pair: `v4` ≥ 0 is an IPv4 address (number-keyed, `text` unused),
// -1 means key by `text`.

import { IntTable } from './int-table.js';
import { NONE } from './plan.js';

const V4_SHARDS = 16;
const TEXT_SHARDS = 64;

function shardOf(text: string): number {
  let h = text.length;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return (h ^ (h >>> 7)) & (TEXT_SHARDS - 1);
}

/** A canonical dotted quad (no leading zeros) as a uint32, or -1 when the text is not one. */
export function parseIPv4(text: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3 && (digits === 0 || part !== 0)) {
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + part : -1;
}

export const ipv4Text = (v: number): string =>
  `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

export class SourceIndex {
  private readonly v4: IntTable[];
  private readonly text: Map<string, number>[] = Array.from(
    { length: TEXT_SHARDS },
    () => new Map<string, number>(),
  );

  /** `maxSources`: the most IPv4 sources one shard may have to hold. */
  constructor(maxSources: number) {
    this.v4 = Array.from({ length: V4_SHARDS }, () => new IntTable(maxSources));
  }

  /** The source's first slot, or NONE. */
  get(v4: number, text: string): number {
    if (v4 >= 0) return this.v4[v4 & (V4_SHARDS - 1)]!.get(v4);
    return this.text[shardOf(text)]!.get(text) ?? NONE;
  }

  set(v4: number, text: string, slot: number): void {
    if (v4 >= 0) this.v4[v4 & (V4_SHARDS - 1)]!.set(v4, slot);
    else this.text[shardOf(text)]!.set(text, slot); // a Map keeps the key it already has
  }

  delete(v4: number, text: string): void {
    if (v4 >= 0) this.v4[v4 & (V4_SHARDS - 1)]!.delete(v4);
    else this.text[shardOf(text)]!.delete(text);
  }
}
