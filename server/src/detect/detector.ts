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
// Memory and speed (50,000+ packets/s with up to 1,000,000 sources mid-sequence): one
// attempt is one slot of the attempt table (attempt-table.ts: parallel typed arrays,
// ~37 bytes, no JS object); a source leads to its first slot through the source index
// (source-index.ts: typed hash tables for IPv4, Maps for IPv6), and its attempts (one
// per door in progress) are chained in door order. Expiry uses one FIFO per distinct
// timeout value (expiry-queues.ts), so expiring never scans the table. What is known
// about the doors beforehand (steps as knock keys, flag masks, which doors a port
// concerns) is the plan (plan.ts). A full table evicts its oldest attempt.
//
// (Over 400 lines: most of it is the public types' documentation and feed(), whose walk
// over a source's attempts stays inline: as a method it boxed `now` on every call and
// cost 10-15% more per packet in scripts/bench-detector.mjs.)

import type { KnockEvent } from '@knock/shared';
import { AttemptTable, FLAG_TCP, FLAG_TEXT, FLAG_V6, MIN_CAPACITY } from './attempt-table.js';
import { ExpiryQueues } from './expiry-queues.js';
import {
  accepts,
  canonical,
  carryOver,
  checkDoor,
  indexKeys,
  KEY_SPACE,
  keyOf,
  NONE,
  planDoor,
  type DetectorDoor,
  type Plan,
} from './plan.js';
import { parseIPv4, SourceIndex } from './source-index.js';

export type { DetectorDoor } from './plan.js';

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

export class Detector {
  private plans: Plan[] = [];
  /** Per knock key: 1 + its index in `containing`/`starting`, or 0 (see plan.ts). */
  private keyIndex: Uint32Array = new Uint32Array(KEY_SPACE);
  private containing: Int32Array[] = [];
  private starting: Int32Array[] = [];
  private local: Set<string> | undefined;
  private readonly restart: boolean;
  private readonly table: AttemptTable;
  private readonly queues: ExpiryQueues;
  private readonly sources: SourceIndex;
  private evicted = 0;

  // Scratch for feed(): doors this packet already handled for its source.
  private touched = new Uint8Array(0);
  private touchedList = new Int32Array(0);

  constructor(doors: readonly DetectorDoor[], options: DetectorOptions = {}) {
    const max = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
    this.restart = options.restartOnWrongKnock ?? true;
    this.sources = new SourceIndex(max);
    this.table = new AttemptTable(max);
    this.queues = new ExpiryQueues(this.table);
    if (options.localAddresses !== undefined) this.setLocalAddresses(options.localAddresses);
    this.setDoors(doors);
  }

  /** Attempts in progress. */
  get size(): number {
    return this.table.count;
  }

  /** Attempt slots allocated (grows with the table, shrinks back when attempts end). */
  get capacity(): number {
    return this.table.allocated;
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
    const t = this.table;
    for (let q = 0; q < this.queues.head.length; q++)
      for (let slot = this.queues.head[q]!; slot !== NONE; slot = t.qNext[slot]!)
        perPlan[t.door[slot]!]!++;
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
    for (const door of doors) checkDoor(door);
    const fresh = doors.map(planDoor);
    const doorMap = carryOver(this.plans, fresh);

    // New queues, one per distinct timeout.
    const timeouts: number[] = [];
    const queueOf = new Map<number, number>();
    const plans: Plan[] = fresh.map((p) => {
      let queue = queueOf.get(p.timeoutMs);
      if (queue === undefined) queueOf.set(p.timeoutMs, (queue = timeouts.push(p.timeoutMs) - 1));
      return { ...p, queue };
    });
    const t = this.table;
    const dropped = this.queues.replace(timeouts, (slot) => {
      const door = doorMap[t.door[slot]!]!;
      if (door === NONE) return NONE;
      t.door[slot] = door;
      return plans[door]!.queue;
    });
    this.plans = plans;
    for (const slot of dropped) {
      this.unlinkSource(slot);
      t.free(slot);
    }
    ({
      keyIndex: this.keyIndex,
      containing: this.containing,
      starting: this.starting,
    } = indexKeys(plans));
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
    const tcp = protocol === 'tcp';
    const dst = event.dst;
    const flags = event.flags;
    // Invisible unless it is a knock for at least one door (knockd's BPF).
    if (!this.isKnock(this.containing[indexed - 1]!, dst, tcp, flags)) return;

    const src = event.src;
    const given = event.srcV4;
    const v4 =
      given !== undefined && (given === -1 || given >>> 0 === given) ? given : parseIPv4(src);
    const first = this.sources.get(v4, src);
    const family = event.family;
    const seq = event.seq >>> 0;
    let touchedCount = 0;

    // The packet meets each attempt of its source: a step, a retransmission, a wrong
    // knock, or not a knock for that door; attempts that time out, fail or open end.
    // `touched` marks the doors handled (unmarked again where the packet may start the
    // door afresh). (Inline, not a method: a call would box `now` on every packet.)
    if (first !== NONE) {
      const t = this.table;
      let head = first;
      let prev = NONE;
      let slot = first;
      while (slot !== NONE) {
        const next = t.next[slot]!;
        const d = t.door[slot]!;
        const p = this.plans[d]!;
        const stage = t.stage[slot]!;
        const state = t.flags[slot]!;
        let remove = false;
        this.touched[d] = 1;
        this.touchedList[touchedCount++] = d;
        if (now >= t.start[slot]! + p.timeoutMs) {
          out.push({ kind: 'timeout', src, family, door: p.door, stage });
          remove = true;
          this.touched[d] = 0; // the packet may start the door afresh
        } else if (!accepts(p, this.local, dst, tcp, flags)) {
          // Not a knock for this door (other destination, or fails its TCP flags): ignored.
        } else if (
          tcp &&
          (state & FLAG_TCP) !== 0 &&
          t.port[slot] === event.srcPort &&
          t.seq[slot] === seq &&
          p.keys[stage - 1] === key
        ) {
          // A retransmission of the step just taken.
        } else if (p.keys[stage] === key) {
          const reached = stage + 1;
          out.push({ kind: 'stage', src, family, door: p.door, stage: reached });
          if (reached === p.keys.length) {
            out.push({ kind: 'open', src, family, door: p.door, startedAt: t.start[slot]! });
            remove = true;
          } else {
            t.stage[slot] = reached;
            t.flags[slot] = tcp ? state | FLAG_TCP : state & ~FLAG_TCP;
            t.port[slot] = event.srcPort;
            t.seq[slot] = seq;
          }
        } else {
          out.push({ kind: 'reset', src, family, door: p.door, stage });
          remove = true;
          if (this.restart) this.touched[d] = 0;
        }
        if (remove) {
          if (prev === NONE) head = next;
          else t.next[prev] = next;
          this.queues.unlink(p.queue, slot);
          t.free(slot);
        } else {
          prev = slot;
        }
        slot = next;
      }
      if (head === NONE) this.sources.delete(v4, src);
      else if (head !== first) this.sources.set(v4, src, head);
    }

    const starting = this.starting[indexed - 1]!;
    for (let i = 0; i < starting.length; i++) {
      const d = starting[i]!;
      if (this.touched[d] === 1) continue;
      const p = this.plans[d]!;
      if (!accepts(p, this.local, dst, tcp, flags)) continue;
      out.push({ kind: 'stage', src, family, door: p.door, stage: 1 });
      if (p.keys.length === 1) {
        out.push({ kind: 'open', src, family, door: p.door, startedAt: now });
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
    const t = this.table;
    const queues = this.queues;
    let done = 0;
    while (done < limit) {
      const q = queues.firstDue();
      if (q === NONE) break;
      const slot = queues.head[q]!;
      // The deadline inline: a method returning it would box a double on every packet.
      if (t.start[slot]! + queues.timeout[q]! > now) break;
      out.push({
        kind: 'timeout',
        src: t.sourceText(slot),
        family: (t.flags[slot]! & FLAG_V6) !== 0 ? 6 : 4,
        door: this.plans[t.door[slot]!]!.door,
        stage: t.stage[slot]!,
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
    const q = this.queues.firstDue();
    return q === NONE ? undefined : this.queues.deadline(q);
  }

  /** Knocks taken so far by `src` on the door with this id (0: no attempt in progress). */
  stageOf(src: string, doorId: number): number {
    const t = this.table;
    let slot = this.sources.get(parseIPv4(src), src);
    while (slot !== NONE) {
      if (this.plans[t.door[slot]!]!.door.id === doorId) return t.stage[slot]!;
      slot = t.next[slot]!;
    }
    return 0;
  }

  // --- internals -------------------------------------------------------------------

  /** Whether the packet is a knock for one of `doors` (those whose steps have its port). */
  private isKnock(doors: Int32Array, dst: string, tcp: boolean, flags: number): boolean {
    for (let i = 0; i < doors.length; i++) {
      if (accepts(this.plans[doors[i]!]!, this.local, dst, tcp, flags)) return true;
    }
    return false;
  }

  /** Creates the attempt of door `d` for a source after its first knock. */
  private startAttempt(v4: number, src: string, d: number, event: KnockEvent, now: number): void {
    if (this.table.full) this.evictOldest();
    const t = this.table;
    const slot = t.alloc();
    const head = this.sources.get(v4, src);
    let state = event.protocol === 'tcp' ? FLAG_TCP : 0;
    if (event.family === 6) state |= FLAG_V6;
    if (v4 < 0) {
      state |= FLAG_TEXT;
      // One copy of the text per source, whatever string the packets carried.
      t.setText(slot, head === NONE ? src : t.textKey(head));
    } else {
      t.key[slot] = v4;
    }
    t.door[slot] = d;
    t.stage[slot] = 1;
    t.flags[slot] = state;
    t.port[slot] = event.srcPort;
    t.seq[slot] = event.seq >>> 0;
    t.start[slot] = now;
    // Chain in door order, so actions come out in config order.
    if (head === NONE || t.door[head]! > d) {
      t.next[slot] = head;
      this.sources.set(v4, src, slot);
    } else {
      let at = head;
      while (t.next[at]! !== NONE && t.door[t.next[at]!]! < d) at = t.next[at]!;
      t.next[slot] = t.next[at]!;
      t.next[at] = slot;
    }
    this.queues.append(this.plans[d]!.queue, slot);
  }

  private evictOldest(): void {
    const oldest = this.queues.oldest();
    if (oldest === NONE) return;
    this.removeSlot(oldest);
    this.evicted++;
  }

  /** Removes an attempt from its source chain, its queue and the table. */
  private removeSlot(slot: number): void {
    this.unlinkSource(slot);
    this.queues.unlink(this.plans[this.table.door[slot]!]!.queue, slot);
    this.table.free(slot);
  }

  private unlinkSource(slot: number): void {
    const t = this.table;
    const v4 = t.sourceKey(slot);
    const text = t.textKey(slot);
    const head = this.sources.get(v4, text);
    if (head === slot) {
      const next = t.next[slot]!;
      if (next === NONE) this.sources.delete(v4, text);
      else this.sources.set(v4, text, next);
      return;
    }
    let at = head;
    while (at !== NONE && t.next[at] !== slot) at = t.next[at]!;
    if (at !== NONE) t.next[at] = t.next[slot]!;
  }

  /** Gives memory back once the table is three quarters empty. */
  private maybeShrink(): void {
    const t = this.table;
    if (t.allocated > MIN_CAPACITY && t.count * 4 < t.allocated) {
      this.shrink(Math.max(MIN_CAPACITY, t.count * 2));
    }
  }

  /**
   * Shrinks the table to `capacity` slots; below the highest slot in use, the live
   * slots move to 0..count-1 in queue order, and the sources' heads and the queues
   * follow them.
   */
  private shrink(capacity: number): void {
    const t = this.table;
    if (!t.mustCompact(capacity)) {
      t.resize(capacity);
      return;
    }
    const order = this.queues.liveOrder();
    const remap = t.remapOf(order);
    // Re-point the sources' heads (found before any index changes).
    const heads: number[] = [];
    for (const slot of order) {
      if (this.sources.get(t.sourceKey(slot), t.textKey(slot)) === slot) heads.push(slot);
    }
    for (const slot of heads) this.sources.set(t.sourceKey(slot), t.textKey(slot), remap[slot]!);
    t.compact(capacity, order, remap);
    this.queues.remap(remap);
  }
}
