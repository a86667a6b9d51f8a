// The knock state machine: pure (no I/O, no timers; time is an argument).
//
// knockd 0.8's rules (reference §3.4–§3.5), minus its bugs:
// - every (source, door) pair is its own state machine: one source's completion,
//   failure or timeout never touches another source's attempt (knockd §4.1 bug 1),
//   and one door's result never stops another door from starting on the same packet;
// - a packet that is a knock for some door (its port and protocol, that door's
//   destination and TCP flags) but not this door's next step ends this door's attempt;
//   packets to ports in no door are never seen (the BPF drops them in knockd);
// - TCPFlags never apply to UDP; a TCP packet failing a door's flags is ignored by
//   that door (neither a step nor a wrong knock);
// - a retransmitted SYN (same source port and sequence number as the step just taken)
//   is ignored, not a wrong knock (knockd kills the attempt: PR #72/#90);
// - Seq_Timeout runs in milliseconds from the first knock and expires through
//   expire(now), without waiting for a later packet (knockd: whole seconds, lazily).
//
// Memory and speed (50,000+ packets/s with up to 1,000,000 sources mid-sequence):
// one attempt = one slot in parallel typed arrays (~37 bytes). A source leads to its
// first slot through typed-array hash tables keyed by the IPv4 address as a number
// (no JS object, no string kept per source: ~50 MB and no GC work for a million
// spoofed sources), or through Maps keyed by the address text for IPv6. Both are
// sharded, so no single table ever rehashes a million entries at once. A source's
// attempts (one per door in progress) are chained in door order. Expiry uses one
// FIFO per distinct timeout value: deadlines in a queue grow with the first-knock
// time, so expiring is O(1) amortised and never scans the table. The slot arrays
// live in resizable ArrayBuffers (address space reserved for `maxAttempts`, pages
// committed as they are used): they double in place when full, without a copy or a
// pause, and compact when three quarters empty, giving the pages back at once, so
// memory comes back after a flood without waiting for the garbage collector. A full
// table evicts its oldest attempt.

import ipaddr from 'ipaddr.js';
import { growableArray, resizeArray, type GrowableArray } from './growable.js';
import { IntTable } from './int-table.js';
import { TCP_FLAG_BITS, TCP_FLAGS, type Knock, type TcpFlagRule } from '@knock/shared';
import type { KnockEvent } from '@knock/shared';

export interface DetectorDoor {
  id: number;
  name: string;
  sequence: readonly Knock[];
  /** Seq_Timeout in milliseconds, counted from the first knock. */
  timeoutMs: number;
  tcpFlags: TcpFlagRule;
  /** `Target`: match knocks to this address instead of the local addresses. */
  target?: string;
}

export type DetectorAction =
  /** knockd's `IP: DOOR: Stage N` (N is 1-based: the number of knocks taken). */
  | { kind: 'stage'; src: string; family: 4 | 6; door: DetectorDoor; stage: number }
  /** `IP: DOOR: OPEN SESAME`; `startedAt`: the first knock's time (ms). */
  | { kind: 'open'; src: string; family: 4 | 6; door: DetectorDoor; startedAt: number }
  /** `IP: DOOR: sequence timeout (stage N)`. */
  | { kind: 'timeout'; src: string; family: 4 | 6; door: DetectorDoor; stage: number }
  /** A wrong knock ended the attempt after `stage` knocks (knockd logs nothing). */
  | { kind: 'reset'; src: string; family: 4 | 6; door: DetectorDoor; stage: number };

export interface DetectorOptions {
  /** Attempts tracked at once; past it the oldest attempt is dropped. Default 1,000,000. */
  maxAttempts?: number;
  /**
   * Destinations that doors without `Target` accept (the host's addresses). Not given:
   * any destination (the capture filter is then the only check). Given, even empty:
   * only these, as knockd does.
   */
  localAddresses?: Iterable<string>;
  /**
   * What a wrong knock that is also the door's first step does. knockd 0.8 (`false`):
   * it only kills the attempt, so `7000,8000,7000,8000,9000` for `7000,8000,9000`
   * fails and the knocker must knock the whole sequence once more. Here (default
   * `true`): it kills the attempt and starts a fresh one, so a knocker who starts a
   * garbled sequence over from the top gets in on that try, as they expect.
   */
  restartOnWrongKnock?: boolean;
}

export const DEFAULT_MAX_ATTEMPTS = 1_000_000;

const NONE = -1;
const UDP_KEY = 65536;
const KEY_SPACE = 2 * 65536;
const MIN_CAPACITY = 1024;
const V4_SHARDS = 16;
const TEXT_SHARDS = 64;
const FLAG_TCP = 1;
const FLAG_V6 = 2;
const FLAG_TEXT = 4;

const keyOf = (protocol: 'tcp' | 'udp', port: number): number =>
  protocol === 'udp' ? port + UDP_KEY : port;

/** What the detector precomputes about a door. */
interface Plan {
  door: DetectorDoor;
  keys: Int32Array;
  setMask: number;
  clearMask: number;
  target: string | undefined;
  /** The target's canonical spelling (IPv6 compressed), the form decoders print. */
  targetCanonical: string | undefined;
  timeoutMs: number;
  queue: number;
}

function canonical(address: string): string {
  const bare = address.split('%')[0] ?? address;
  try {
    if (ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare).toRFC5952String();
    if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare).toString();
  } catch {
    // not an address literal: compared as written
  }
  return bare;
}

function plan(door: DetectorDoor): Omit<Plan, 'queue'> {
  let setMask = 0;
  let clearMask = 0;
  for (const flag of TCP_FLAGS) {
    const rule = door.tcpFlags[flag];
    if (rule === true) setMask |= TCP_FLAG_BITS[flag];
    else if (rule === false) clearMask |= TCP_FLAG_BITS[flag];
  }
  return {
    door,
    keys: Int32Array.from(door.sequence, (k) => keyOf(k.protocol, k.port)),
    setMask,
    clearMask,
    target: door.target,
    targetCanonical: door.target === undefined ? undefined : canonical(door.target),
    timeoutMs: Math.max(0, door.timeoutMs),
  };
}

/** Equal for two plans whose attempts carry over a reload: name, flags, target, steps. */
const signature = (p: Omit<Plan, 'queue'>): string =>
  `${p.door.name}\0${p.setMask}\0${p.clearMask}\0${p.targetCanonical ?? ''}\0${p.keys.join(',')}`;

function shardOf(text: string): number {
  let h = text.length;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return (h ^ (h >>> 7)) & (TEXT_SHARDS - 1);
}

/** A canonical dotted quad (no leading zeros) as a uint32, or -1 when the text is not one. */
function parseIPv4(text: string): number {
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

const ipv4Text = (v: number): string =>
  `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

export class Detector {
  private plans: Plan[] = [];
  /** Per knock key (port, +65536 for UDP): 1 + its index in `containing`/`starting`, or 0. */
  private keyIndex = new Uint32Array(KEY_SPACE);
  /** Per indexed key: the doors whose sequence contains it. */
  private containing: Int32Array[] = [];
  /** Per indexed key: the doors whose first step it is (maybe none). */
  private starting: Int32Array[] = [];
  private local: Set<string> | undefined;
  private readonly maxAttempts: number;
  private readonly restart: boolean;

  // FIFO queues, one per distinct timeout value: head/tail slots.
  private queueTimeout: number[] = [];
  private queueHead: number[] = [];
  private queueTail: number[] = [];

  // Source → its first attempt's slot. IPv4 sources (the flood case) live in typed
  // hash tables keyed by the address as a number: nothing on the JS heap per source.
  // Anything else (IPv6) is keyed by its text in Maps; `slotText` keeps that text.
  private readonly v4: IntTable[];
  private readonly text: Map<string, number>[] = Array.from(
    { length: TEXT_SHARDS },
    () => new Map<string, number>(),
  );
  private slotText = new Map<number, string>();

  // Slot arrays (one attempt per slot).
  private allocated = 0;
  private highWater = 0;
  private freeHead = NONE;
  private count = 0;
  private evicted = 0;
  private sDoor: Int32Array;
  /** Knocks taken. */
  private sStage: Uint8Array;
  /** FLAG_*: last step was TCP (then sPort/sSeq identify it), IPv6, text-keyed. */
  private sFlags: Uint8Array;
  private sPort: Uint16Array;
  private sSeq: Uint32Array;
  /** The IPv4 address, for number-keyed sources. */
  private sKey: Uint32Array;
  /** First knock time (ms). */
  private sStart: Float64Array;
  /** Next attempt of the same source (door order). */
  private sNext: Int32Array;
  private sQNext: Int32Array;
  private sQPrev: Int32Array;

  // Scratch for feed(): doors this packet already handled for its source.
  private touched = new Uint8Array(0);
  private touchedList = new Int32Array(0);

  constructor(doors: readonly DetectorDoor[], options: DetectorOptions = {}) {
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
    this.restart = options.restartOnWrongKnock ?? true;
    const max = this.maxAttempts;
    this.v4 = Array.from({ length: V4_SHARDS }, () => new IntTable(max));
    this.sDoor = growableArray(Int32Array, max);
    this.sStage = growableArray(Uint8Array, max);
    this.sFlags = growableArray(Uint8Array, max);
    this.sPort = growableArray(Uint16Array, max);
    this.sSeq = growableArray(Uint32Array, max);
    this.sKey = growableArray(Uint32Array, max);
    this.sStart = growableArray(Float64Array, max);
    this.sNext = growableArray(Int32Array, max);
    this.sQNext = growableArray(Int32Array, max);
    this.sQPrev = growableArray(Int32Array, max);
    if (options.localAddresses !== undefined) this.setLocalAddresses(options.localAddresses);
    this.resize(Math.min(MIN_CAPACITY, this.maxAttempts));
    this.setDoors(doors);
  }

  /** Attempts in progress. */
  get size(): number {
    return this.count;
  }

  /** Attempt slots allocated (grows with the table, shrinks back when attempts end). */
  get capacity(): number {
    return this.allocated;
  }

  /** Attempts dropped because the table was full (oldest first). */
  get evictions(): number {
    return this.evicted;
  }

  /**
   * Attempts in progress per door name. Walks every attempt (O(attempts), about 1 ms
   * per 100,000): for a status request, never per packet.
   */
  attemptsByDoor(): Map<string, number> {
    const perPlan = new Array<number>(this.plans.length).fill(0);
    for (let q = 0; q < this.queueHead.length; q++)
      for (let slot = this.queueHead[q]!; slot !== NONE; slot = this.sQNext[slot]!)
        perPlan[this.sDoor[slot]!]!++;
    const byName = new Map<string, number>();
    this.plans.forEach((plan, d) =>
      byName.set(plan.door.name, (byName.get(plan.door.name) ?? 0) + perPlan[d]!),
    );
    return byName;
  }

  setLocalAddresses(addresses: Iterable<string>): void {
    const local = new Set<string>();
    for (const address of addresses) {
      local.add(address);
      local.add(canonical(address));
    }
    this.local = local;
  }

  /**
   * Replaces the doors (SIGHUP). Attempts of doors whose name, sequence, TCP flags
   * and target are unchanged carry on (with the new timeout); the others are dropped.
   */
  setDoors(doors: readonly DetectorDoor[]): void {
    for (const door of doors) {
      // Stages are bytes; knockd's SEQ_MAX (32) keeps real doors far below this.
      if (door.sequence.length > 255) {
        throw new RangeError(`door ${door.name}: ${door.sequence.length} knocks (at most 255)`);
      }
      // A NaN or infinite timeout would leave its attempts in the queue for ever.
      if (!Number.isFinite(door.timeoutMs) || door.timeoutMs < 0)
        throw new RangeError(`door ${door.name}: timeout ${door.timeoutMs} ms is not a time`);
      for (const knock of door.sequence)
        if (
          knock.port >>> 0 !== knock.port ||
          knock.port < 1 ||
          knock.port > 65535 ||
          (knock.protocol !== 'tcp' && knock.protocol !== 'udp')
        )
          throw new RangeError(`door ${door.name}: ${knock.port}:${knock.protocol} is not a port`);
    }
    const fresh = doors.map(plan);
    const oldPlans = this.plans;
    const doorMap = new Int32Array(oldPlans.length).fill(NONE);
    // Each old door keeps its attempts in the first new door that is the same plan: one
    // map lookup per door (a scan per door was quadratic on a reload of 16,889 doors).
    const bySignature = new Map<string, number[]>();
    fresh.forEach((p, k) => {
      const key = signature(p);
      const list = bySignature.get(key);
      if (list) list.push(k);
      else bySignature.set(key, [k]);
    });
    oldPlans.forEach((old, i) => {
      const j = bySignature.get(signature(old))?.shift();
      if (j !== undefined) doorMap[i] = j;
    });

    // New queues, one per distinct timeout.
    const queueTimeout: number[] = [];
    const queueOf = new Map<number, number>();
    const plans: Plan[] = fresh.map((p) => {
      let queue = queueOf.get(p.timeoutMs);
      if (queue === undefined)
        queueOf.set(p.timeoutMs, (queue = queueTimeout.push(p.timeoutMs) - 1));
      return { ...p, queue };
    });

    // Walk the live attempts oldest first (a merge of the old queues), re-queue the
    // kept ones in that order so every new queue stays sorted by first knock.
    const cursors = this.queueHead.slice();
    const queueHead: number[] = queueTimeout.map(() => NONE);
    const queueTail: number[] = queueTimeout.map(() => NONE);
    const dropped: number[] = [];
    for (;;) {
      let best = NONE;
      let bestQueue = NONE;
      for (let q = 0; q < cursors.length; q++) {
        const slot = cursors[q] ?? NONE;
        if (slot !== NONE && (best === NONE || this.sStart[slot]! < this.sStart[best]!)) {
          best = slot;
          bestQueue = q;
        }
      }
      if (best === NONE) break;
      cursors[bestQueue] = this.sQNext[best]!;
      const door = doorMap[this.sDoor[best]!]!;
      if (door === NONE) {
        dropped.push(best);
        continue;
      }
      this.sDoor[best] = door;
      const q = plans[door]!.queue;
      const tail = queueTail[q]!;
      this.sQPrev[best] = tail;
      this.sQNext[best] = NONE;
      if (tail === NONE) queueHead[q] = best;
      else this.sQNext[tail] = best;
      queueTail[q] = best;
    }
    this.plans = plans;
    this.queueTimeout = queueTimeout;
    this.queueHead = queueHead;
    this.queueTail = queueTail;
    for (const slot of dropped) {
      this.unlinkSource(slot);
      this.freeSlot(slot);
    }

    const keyIndex = new Uint32Array(KEY_SPACE);
    const containing: number[][] = [];
    const starting: number[][] = [];
    plans.forEach((p, d) => {
      p.keys.forEach((key, step) => {
        if (keyIndex[key] === 0) {
          containing.push([]);
          starting.push([]);
          keyIndex[key] = containing.length;
        }
        const at = keyIndex[key]! - 1;
        const doors = containing[at]!;
        if (doors[doors.length - 1] !== d) doors.push(d);
        if (step === 0) starting[at]!.push(d);
      });
    });
    this.keyIndex = keyIndex;
    this.containing = containing.map((doors) => Int32Array.from(doors));
    this.starting = starting.map((doors) => Int32Array.from(doors));
    this.touched = new Uint8Array(plans.length);
    this.touchedList = new Int32Array(plans.length);
    this.maybeShrink();
  }

  /**
   * Feeds one captured packet seen at `now` (ms); appends what happened to `out`.
   * The event is checked at this boundary: a port that is not a whole number from 0
   * to 65535, a protocol or family that is not one of ours, a source that is not text,
   * or an IPv4 key that is not a uint32 is not a knock, and is ignored (a decoder bug
   * must not corrupt the table). `now` must be a finite time (RangeError otherwise).
   */
  feed(event: KnockEvent, now: number, out: DetectorAction[]): void {
    if (!Number.isFinite(now))
      throw new RangeError(`the time of a packet must be finite (got ${now})`);
    this.expire(now, out);
    const port = event.dstPort;
    // (x >>> 0) === x: a whole number from 0 to 2^32-1 (false for NaN, fractions, negatives).
    if (port >>> 0 !== port || port > 65535) return;
    const protocol = event.protocol;
    if (protocol !== 'tcp' && protocol !== 'udp') return;
    if ((event.family !== 4 && event.family !== 6) || typeof event.src !== 'string') return;
    const key = keyOf(protocol, port);
    const indexed = this.keyIndex[key]!;
    if (indexed === 0) return;
    const containing = this.containing[indexed - 1]!;
    const tcp = event.protocol === 'tcp';
    const dst = event.dst;
    const flags = event.flags;

    // Invisible unless it is a knock for at least one door (knockd's BPF).
    let visible = false;
    for (let i = 0; i < containing.length; i++) {
      const p = this.plans[containing[i]!]!;
      if (this.accepts(p, dst, tcp, flags)) {
        visible = true;
        break;
      }
    }
    if (!visible) return;

    const src = event.src;
    const given = event.srcV4;
    const v4 =
      given !== undefined && (given === -1 || given >>> 0 === given) ? given : parseIPv4(src);
    const first = this.getHead(v4, src);
    const seq = event.seq >>> 0;
    let touchedCount = 0;

    if (first !== NONE) {
      let head = first;
      let prev = NONE;
      let slot = first;
      while (slot !== NONE) {
        const next = this.sNext[slot]!;
        const d = this.sDoor[slot]!;
        const p = this.plans[d]!;
        const stage = this.sStage[slot]!;
        const state = this.sFlags[slot]!;
        let remove = false;
        this.touched[d] = 1;
        this.touchedList[touchedCount++] = d;
        if (now >= this.sStart[slot]! + p.timeoutMs) {
          out.push({ kind: 'timeout', src, family: event.family, door: p.door, stage });
          remove = true;
          this.touched[d] = 0; // the packet may start the door afresh
        } else if (!this.accepts(p, dst, tcp, flags)) {
          // Not a knock for this door (other destination, or fails its TCP flags): ignored.
        } else if (
          tcp &&
          (state & FLAG_TCP) !== 0 &&
          this.sPort[slot] === event.srcPort &&
          this.sSeq[slot] === seq &&
          p.keys[stage - 1] === key
        ) {
          // A retransmission of the step just taken.
        } else if (p.keys[stage] === key) {
          const reached = stage + 1;
          out.push({ kind: 'stage', src, family: event.family, door: p.door, stage: reached });
          if (reached === p.keys.length) {
            out.push({
              kind: 'open',
              src,
              family: event.family,
              door: p.door,
              startedAt: this.sStart[slot]!,
            });
            remove = true;
          } else {
            this.sStage[slot] = reached;
            this.sFlags[slot] = tcp ? state | FLAG_TCP : state & ~FLAG_TCP;
            this.sPort[slot] = event.srcPort;
            this.sSeq[slot] = seq;
          }
        } else {
          out.push({ kind: 'reset', src, family: event.family, door: p.door, stage });
          remove = true;
          if (this.restart) this.touched[d] = 0;
        }
        if (remove) {
          if (prev === NONE) head = next;
          else this.sNext[prev] = next;
          this.unlinkQueue(slot);
          this.freeSlot(slot);
        } else {
          prev = slot;
        }
        slot = next;
      }
      if (head === NONE) this.deleteHead(v4, src);
      else if (head !== first) this.setHead(v4, src, head);
    }

    const starting = this.starting[indexed - 1]!;
    for (let i = 0; i < starting.length; i++) {
      const d = starting[i]!;
      if (this.touched[d] === 1) continue;
      const p = this.plans[d]!;
      if (!this.accepts(p, dst, tcp, flags)) continue;
      out.push({ kind: 'stage', src, family: event.family, door: p.door, stage: 1 });
      if (p.keys.length === 1) {
        out.push({ kind: 'open', src, family: event.family, door: p.door, startedAt: now });
      } else {
        this.startAttempt(v4, src, d, event, now);
      }
    }
    for (let i = 0; i < touchedCount; i++) this.touched[this.touchedList[i]!] = 0;
    this.maybeShrink();
  }

  /**
   * Ends every attempt whose Seq_Timeout has run out at `now`, appending `timeout`
   * actions in deadline order (across timeout values too). `limit` bounds the work of
   * one call (the caller comes back at once for the rest, letting packets in between).
   */
  expire(now: number, out: DetectorAction[], limit = Infinity): void {
    // NaN would compare false with every deadline (nothing expires, silently).
    if (Number.isNaN(now)) throw new RangeError('expire(NaN): the time must be a number');
    let done = 0;
    while (done < limit) {
      let slot = NONE;
      let deadline = 0;
      for (let q = 0; q < this.queueHead.length; q++) {
        const head = this.queueHead[q]!;
        if (head === NONE) continue;
        const due = this.sStart[head]! + this.queueTimeout[q]!;
        if (due <= now && (slot === NONE || due < deadline)) {
          slot = head;
          deadline = due;
        }
      }
      if (slot === NONE) break;
      out.push({
        kind: 'timeout',
        src: this.sourceText(slot),
        family: (this.sFlags[slot]! & FLAG_V6) !== 0 ? 6 : 4,
        door: this.plans[this.sDoor[slot]!]!.door,
        stage: this.sStage[slot]!,
      });
      this.removeSlot(slot);
      done++;
    }
    if (done > 0) this.maybeShrink();
  }

  /**
   * The earliest time (ms) at which expire() has something to do, so the caller
   * arms one timer. (Use the same clock for feed() and expire(). If it steps
   * backwards, an attempt started after the step may expire up to that step late,
   * since each queue is ordered by arrival; a later knock still sees it expired.)
   */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (let q = 0; q < this.queueHead.length; q++) {
      const slot = this.queueHead[q]!;
      if (slot === NONE) continue;
      const deadline = this.sStart[slot]! + this.queueTimeout[q]!;
      if (next === undefined || deadline < next) next = deadline;
    }
    return next;
  }

  /** Knocks taken so far by `src` on the door with this id (0: no attempt in progress). */
  stageOf(src: string, doorId: number): number {
    let slot = this.getHead(parseIPv4(src), src);
    while (slot !== NONE) {
      if (this.plans[this.sDoor[slot]!]!.door.id === doorId) return this.sStage[slot]!;
      slot = this.sNext[slot]!;
    }
    return 0;
  }

  // --- internals -------------------------------------------------------------------

  private accepts(p: Plan, dst: string, tcp: boolean, flags: number): boolean {
    if (p.target !== undefined) {
      if (dst !== p.target && dst !== p.targetCanonical) return false;
    } else if (this.local !== undefined && !this.local.has(dst)) {
      return false;
    }
    return !tcp || ((flags & p.setMask) === p.setMask && (flags & p.clearMask) === 0);
  }

  // Source keys: `v4` ≥ 0 is an IPv4 address (number-keyed), -1 means key by `text`.

  private getHead(v4: number, text: string): number {
    if (v4 >= 0) return this.v4[v4 & (V4_SHARDS - 1)]!.get(v4);
    return this.text[shardOf(text)]!.get(text) ?? NONE;
  }

  private setHead(v4: number, text: string, slot: number): void {
    if (v4 >= 0) this.v4[v4 & (V4_SHARDS - 1)]!.set(v4, slot);
    else this.text[shardOf(text)]!.set(text, slot);
  }

  private deleteHead(v4: number, text: string): void {
    if (v4 >= 0) this.v4[v4 & (V4_SHARDS - 1)]!.delete(v4);
    else this.text[shardOf(text)]!.delete(text);
  }

  private sourceText(slot: number): string {
    return (this.sFlags[slot]! & FLAG_TEXT) !== 0
      ? this.slotText.get(slot)!
      : ipv4Text(this.sKey[slot]!);
  }

  private sourceKey(slot: number): number {
    return (this.sFlags[slot]! & FLAG_TEXT) !== 0 ? -1 : this.sKey[slot]!;
  }

  /** The Map key of a text-keyed slot ('' for number-keyed ones: not used then). */
  private textKey(slot: number): string {
    return (this.sFlags[slot]! & FLAG_TEXT) !== 0 ? this.slotText.get(slot)! : '';
  }

  /** Creates the attempt of door `d` for a source after its first knock. */
  private startAttempt(v4: number, src: string, d: number, event: KnockEvent, now: number): void {
    const slot = this.allocSlot();
    const head = this.getHead(v4, src);
    let state = event.protocol === 'tcp' ? FLAG_TCP : 0;
    if (event.family === 6) state |= FLAG_V6;
    if (v4 < 0) {
      state |= FLAG_TEXT;
      // One copy of the text per source, whatever string the packets carried.
      this.slotText.set(slot, head === NONE ? src : this.slotText.get(head)!);
    } else {
      this.sKey[slot] = v4;
    }
    this.sDoor[slot] = d;
    this.sStage[slot] = 1;
    this.sFlags[slot] = state;
    this.sPort[slot] = event.srcPort;
    this.sSeq[slot] = event.seq >>> 0;
    this.sStart[slot] = now;
    // Chain in door order, so actions come out in config order.
    if (head === NONE || this.sDoor[head]! > d) {
      this.sNext[slot] = head;
      this.setHead(v4, src, slot); // a Map keeps the key it already has
    } else {
      let at = head;
      while (this.sNext[at]! !== NONE && this.sDoor[this.sNext[at]!]! < d) at = this.sNext[at]!;
      this.sNext[slot] = this.sNext[at]!;
      this.sNext[at] = slot;
    }
    const q = this.plans[d]!.queue;
    const tail = this.queueTail[q]!;
    this.sQPrev[slot] = tail;
    this.sQNext[slot] = NONE;
    if (tail === NONE) this.queueHead[q] = slot;
    else this.sQNext[tail] = slot;
    this.queueTail[q] = slot;
    this.count++;
  }

  private allocSlot(): number {
    if (this.count >= this.maxAttempts) {
      this.evictOldest();
    }
    if (this.freeHead !== NONE) {
      const slot = this.freeHead;
      this.freeHead = this.sNext[slot]!;
      return slot;
    }
    if (this.highWater === this.allocated) {
      this.resize(Math.min(this.allocated * 2, this.maxAttempts));
    }
    return this.highWater++;
  }

  private evictOldest(): void {
    let oldest = NONE;
    for (let q = 0; q < this.queueHead.length; q++) {
      const slot = this.queueHead[q]!;
      if (slot !== NONE && (oldest === NONE || this.sStart[slot]! < this.sStart[oldest]!)) {
        oldest = slot;
      }
    }
    if (oldest === NONE) return;
    this.removeSlot(oldest);
    this.evicted++;
  }

  /** Removes an attempt from its source chain, its queue and the table. */
  private removeSlot(slot: number): void {
    this.unlinkSource(slot);
    this.unlinkQueue(slot);
    this.freeSlot(slot);
  }

  private unlinkSource(slot: number): void {
    const v4 = this.sourceKey(slot);
    const text = this.textKey(slot);
    const head = this.getHead(v4, text);
    if (head === slot) {
      const next = this.sNext[slot]!;
      if (next === NONE) this.deleteHead(v4, text);
      else this.setHead(v4, text, next);
      return;
    }
    let at = head;
    while (at !== NONE && this.sNext[at] !== slot) at = this.sNext[at]!;
    if (at !== NONE) this.sNext[at] = this.sNext[slot]!;
  }

  private unlinkQueue(slot: number): void {
    const q = this.plans[this.sDoor[slot]!]!.queue;
    const prev = this.sQPrev[slot]!;
    const next = this.sQNext[slot]!;
    if (prev === NONE) this.queueHead[q] = next;
    else this.sQNext[prev] = next;
    if (next === NONE) this.queueTail[q] = prev;
    else this.sQPrev[next] = prev;
  }

  private freeSlot(slot: number): void {
    if ((this.sFlags[slot]! & FLAG_TEXT) !== 0) this.slotText.delete(slot);
    this.sFlags[slot] = 0;
    this.sDoor[slot] = NONE;
    this.sNext[slot] = this.freeHead;
    this.freeHead = slot;
    this.count--;
  }

  private maybeShrink(): void {
    if (this.allocated > MIN_CAPACITY && this.count * 4 < this.allocated) {
      this.resize(Math.max(MIN_CAPACITY, this.count * 2));
    }
  }

  /**
   * Grows (indices kept) or shrinks the slot arrays; a shrink below the highest slot
   * in use compacts the live slots to 0..count-1, keeping queue order.
   */
  private resize(capacity: number): void {
    // Every live slot is below highWater: if that fits, indices can stay as they are.
    const remap =
      capacity >= this.highWater ? undefined : new Int32Array(this.allocated).fill(NONE);
    let live = 0;
    if (remap !== undefined)
      for (const head of this.queueHead)
        for (let slot = head; slot !== NONE; slot = this.sQNext[slot]!) live++;
    const order = new Int32Array(live);
    if (remap !== undefined) {
      let n = 0;
      for (const head of this.queueHead) {
        for (let slot = head; slot !== NONE; slot = this.sQNext[slot]!) {
          remap[slot] = n;
          order[n++] = slot;
        }
      }
      // Re-point the sources' heads (found before any index changes).
      const heads: number[] = [];
      for (const slot of order) {
        if (this.getHead(this.sourceKey(slot), this.textKey(slot)) === slot) heads.push(slot);
      }
      for (const slot of heads) {
        this.setHead(this.sourceKey(slot), this.textKey(slot), remap[slot]!);
      }
      const slotText = new Map<number, string>();
      for (const [slot, text] of this.slotText) slotText.set(remap[slot]!, text);
      this.slotText = slotText;
    }
    const at = (slot: number): number =>
      slot === NONE || remap === undefined ? slot : remap[slot]!;
    const move = <T extends GrowableArray>(old: T, links = false): T => {
      if (remap === undefined) return resizeArray(old, capacity, this.highWater);
      // The live values in queue order (few: a compaction happens three quarters empty).
      const kept = new (old.constructor as new (n: number) => T)(order.length);
      for (let i = 0; i < order.length; i++) {
        const value = old[order[i]!]!;
        kept[i] = links ? at(value) : value;
      }
      return resizeArray(old, capacity, 0, kept);
    };
    this.sDoor = move(this.sDoor);
    this.sStage = move(this.sStage);
    this.sFlags = move(this.sFlags);
    this.sPort = move(this.sPort);
    this.sSeq = move(this.sSeq);
    this.sKey = move(this.sKey);
    this.sStart = move(this.sStart);
    this.sNext = move(this.sNext, true);
    this.sQNext = move(this.sQNext, true);
    this.sQPrev = move(this.sQPrev, true);
    if (remap !== undefined) {
      this.queueHead = this.queueHead.map(at);
      this.queueTail = this.queueTail.map(at);
      this.highWater = order.length;
      this.freeHead = NONE;
    }
    this.allocated = capacity;
  }
}
