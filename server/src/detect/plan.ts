// The plan of doors: what the detector precomputes about each door (its steps as knock
// keys, its TCP flags as two bit masks, its target), which doors carry their attempts
// over a reload, and the index from a knock key to the doors it belongs to.

import ipaddr from '../ipaddr.js';
import { TCP_FLAG_BITS, TCP_FLAGS, type Knock, type TcpFlagRule } from '@knock/shared';

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

/** "No slot, no door, no queue" in the detector's int arrays. */
export const NONE = -1;

const UDP_KEY = 65536;
/** Knock keys run from 0 to KEY_SPACE - 1: the TCP ports, then the UDP ports. */
export const KEY_SPACE = 2 * 65536;

/** The knock key of a port: the port for TCP, the port + 65536 for UDP. */
export const keyOf = (protocol: 'tcp' | 'udp', port: number): number =>
  protocol === 'udp' ? port + UDP_KEY : port;

/** What the detector precomputes about a door. */
export interface Plan {
  door: DetectorDoor;
  keys: Int32Array;
  setMask: number;
  clearMask: number;
  target: string | undefined;
  /** The target's canonical spelling (IPv6 compressed), the form decoders print. */
  targetCanonical: string | undefined;
  timeoutMs: number;
  /** The expiry queue of the door's timeout (expiry-queues.ts). */
  queue: number;
}

export type DoorPlan = Omit<Plan, 'queue'>;

/** An address in the form decoders print it (IPv6 compressed, no zone); other text as is. */
export function canonical(address: string): string {
  const bare = address.split('%')[0] ?? address;
  try {
    if (ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare).toRFC5952String();
    if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare).toString();
  } catch {
    // not an address literal: compared as written
  }
  return bare;
}

/** Throws a RangeError naming the door when the detector cannot track it. */
export function checkDoor(door: DetectorDoor): void {
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

export function planDoor(door: DetectorDoor): DoorPlan {
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
const signature = (p: DoorPlan): string =>
  `${p.door.name}\0${p.setMask}\0${p.clearMask}\0${p.targetCanonical ?? ''}\0${p.keys.join(',')}`;

/**
 * For each old door, the new door that takes over its attempts (NONE: dropped). Each
 * old door keeps its attempts in the first new door that is the same plan: one map
 * lookup per door (a scan per door was quadratic on a reload of 16,889 doors).
 */
export function carryOver(oldPlans: readonly DoorPlan[], fresh: readonly DoorPlan[]): Int32Array {
  const doorMap = new Int32Array(oldPlans.length).fill(NONE);
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
  return doorMap;
}

/**
 * Whether a packet is a knock for the door: its destination is the door's target (or,
 * without one, a local address when those are known), and a TCP packet passes the
 * door's flags. The packet's port is the caller's business.
 */
export function accepts(
  p: Plan,
  local: ReadonlySet<string> | undefined,
  dst: string,
  tcp: boolean,
  flags: number,
): boolean {
  if (p.target !== undefined) {
    if (dst !== p.target && dst !== p.targetCanonical) return false;
  } else if (local !== undefined && !local.has(dst)) {
    return false;
  }
  return !tcp || ((flags & p.setMask) === p.setMask && (flags & p.clearMask) === 0);
}

/** From a knock key to the doors it concerns. */
export interface KeyIndex {
  /** Per knock key: 1 + its index in `containing`/`starting`, or 0 (no door has it). */
  keyIndex: Uint32Array;
  /** Per indexed key: the doors whose sequence contains it. */
  containing: Int32Array[];
  /** Per indexed key: the doors whose first step it is (maybe none). */
  starting: Int32Array[];
}

export function indexKeys(plans: readonly DoorPlan[]): KeyIndex {
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
  return {
    keyIndex,
    containing: containing.map((doors) => Int32Array.from(doors)),
    starting: starting.map((doors) => Int32Array.from(doors)),
  };
}
