/**
 * What `knock-server status` shows of the daemon: the snapshot types, and the pure
 * parts that turn a running door and a capture source into them.
 */
import { formatSequence, stepAt } from '@knock/shared';
import type { RunningDoor } from './doors.js';
import type { ReopenableSource } from './deps.js';

/** A cluster node's view of its store, at one moment (`knock-server status`). */
export interface ClusterHealth {
  url: string;
  node: string;
  reachable: boolean;
  /** ms since the epoch, while the store is lost */
  lostSince?: number;
  /** The fan-out round trip of the last heartbeat (ms). */
  lagMs?: number;
  fail: 'open' | 'closed';
}

/** One door as `knock-server status` shows it. */
export interface DoorSnapshot {
  name: string;
  /** The sequence in force (`1228,1227:udp`), or undefined while a one-time door rotates or is used up. */
  sequence: string | undefined;
  /** One_Time_Sequences file, and how many unused sequences it has left. */
  oneTimeSequences?: { file: string; remaining: number | undefined };
  /** Sequence_Secret: the step of the daemon's clock, and how many derived sequences are watched. */
  rotatingSequences?: { step: number; accepted: number };
  state: 'armed' | 'rotating' | 'disabled';
  /** Attempts in progress for this door. */
  inProgress: number;
}

/** What the daemon can say about itself, at one moment (`knock-server status`). */
export interface DaemonSnapshot {
  configPath: string;
  interfaces: { name: string; capturing: boolean }[];
  /** The capture failed and is being retried. */
  captureLost: boolean;
  filter: string;
  doors: DoorSnapshot[];
  attempts: { inProgress: number; capacity: number; max: number; evictions: number };
  capture: { received: number; kernelDropped: number; interfaceDropped: number } | undefined;
  cluster?: ClusterHealth;
}

/** One running door as `status` shows it; `perDoor` counts attempts in progress by door. */
export function doorSnapshot(
  d: RunningDoor,
  now: number,
  perDoor: ReadonlyMap<string, number> | undefined,
): DoorSnapshot {
  return {
    name: d.door.name,
    sequence:
      d.disabled || d.rotating || d.derived ? undefined : formatSequence(d.detector.sequence),
    ...(d.door.oneTimeSequences !== undefined
      ? { oneTimeSequences: { file: d.door.oneTimeSequences, remaining: d.remaining } }
      : {}),
    ...(d.derived && d.door.rotating
      ? {
          rotatingSequences: {
            step: stepAt(now, d.door.rotating.step),
            accepted: d.derived.length,
          },
        }
      : {}),
    state: d.disabled ? 'disabled' : d.rotating ? 'rotating' : 'armed',
    inProgress: perDoor?.get(d.door.name) ?? 0,
  };
}

/** The capture's packet counters (undefined without a source, or when it cannot say). */
export function captureCounters(source: ReopenableSource | undefined): DaemonSnapshot['capture'] {
  try {
    if (source?.counters) return source.counters();
    if (source) {
      const s = source.stats();
      return { received: s.received, kernelDropped: s.dropped, interfaceDropped: 0 };
    }
  } catch {
    return undefined;
  }
  return undefined;
}
