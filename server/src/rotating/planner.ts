/**
 * Rotating doors in the daemon, without touching the detector: each derived sequence a
 * rotating door accepts now (every step of the window, each address family, the current
 * secret and a previous one in its grace period) is presented to the detector as a
 * fixed-sequence door of its own, with the door's name. At each step boundary the daemon
 * asks for a new plan: a derived door still accepted keeps its id and the detector keeps
 * its attempts in progress (it matches doors by name and sequence); one that left is
 * dropped; the capture filter follows. A step that leaves the window stays for the door's
 * Seq_Timeout, so a knock begun in it can finish. A derived sequence that opened is used:
 * it leaves the plan at once and the store remembers it (across SIGHUP and restarts).
 */
import { createHmac } from 'node:crypto';
import {
  acceptedSteps,
  deriveSequence,
  formatSequence,
  rotatingSpec,
  stepAt,
  stepStartMs,
  type Door,
} from '@knock/shared';
import type { DetectorDoor } from '../detect/detector.js';
import type { UsedKey, UsedSequenceStore } from './used-store.js';

/** One derived sequence of a rotating door, as the detector sees it. */
export interface DerivedDoor {
  detector: DetectorDoor;
  step: number;
  family: 4 | 6;
  /** The secret it comes from: the current one, or the previous one in its grace period. */
  secret: 'current' | 'previous';
  key: UsedKey;
  /** Until when the store must remember it once used. */
  keepUntilMs: number;
}

/** A short, one-way name for a secret (the state file must not hold the secret itself). */
export function secretFingerprint(secret: Uint8Array): string {
  return createHmac('sha256', secret)
    .update('knock-rotating-v1 fingerprint')
    .digest('hex')
    .slice(0, 16);
}

export interface PlanOptions {
  ipv4Only: boolean;
  store: UsedSequenceStore;
  newId: () => number;
}

/** The detector doors a rotating door needs at `now`, reusing the ids of `previous`. */
export function planRotatingDoor(
  door: Door,
  now: number,
  previous: readonly DerivedDoor[] | undefined,
  options: PlanOptions,
): DerivedDoor[] {
  const rotating = door.rotating;
  if (!rotating?.secret) return [];
  const t = stepAt(now, rotating.step);
  const steps = acceptedSteps(t, rotating.skew);
  // The step that left the window when step t began, while a knock begun in it may
  // still be finishing (a knock must end within Seq_Timeout of its first packet).
  if (now < stepStartMs(t, rotating.step) + door.seqTimeout * 1000)
    steps.unshift(t - rotating.skew - 1);
  const secrets: { which: 'current' | 'previous'; secret: Uint8Array }[] = [
    { which: 'current', secret: rotating.secret },
  ];
  if (
    rotating.previousSecret &&
    rotating.previousUntil !== undefined &&
    now < rotating.previousUntil
  )
    secrets.push({ which: 'previous', secret: rotating.previousSecret });
  const families: (4 | 6)[] = options.ipv4Only ? [4] : [4, 6];
  const out: DerivedDoor[] = [];
  for (const { which, secret } of secrets) {
    const spec = rotatingSpec(door.name, rotating, secret);
    const fingerprint = secretFingerprint(secret);
    for (const step of steps) {
      // Accepted until the end of the last step whose window holds it, plus Seq_Timeout.
      const keepUntilMs =
        stepStartMs(step + rotating.skew + 2, rotating.step) + door.seqTimeout * 1000;
      for (const family of families) {
        const key: UsedKey = { door: door.name, secret: fingerprint, family, step };
        if (options.store.isUsed(key)) continue;
        const sequence = deriveSequence(spec, family, step);
        const kept = previous?.find(
          (p) =>
            p.step === step &&
            p.family === family &&
            p.key.secret === fingerprint &&
            formatSequence(p.detector.sequence) === formatSequence(sequence),
        );
        const detector: DetectorDoor = {
          id: kept?.detector.id ?? options.newId(),
          name: door.name,
          sequence,
          timeoutMs: door.seqTimeout * 1000,
          tcpFlags: door.tcpFlags,
          ...(door.target !== undefined ? { target: door.target } : {}),
        };
        out.push({ detector, step, family, secret: which, key, keepUntilMs });
      }
    }
  }
  return out;
}

/** When the plan of `door` changes next (a step boundary, a tail's end, a grace period's end). */
export function nextPlanChange(door: Door, now: number): number {
  const rotating = door.rotating;
  if (!rotating) return Infinity;
  const t = stepAt(now, rotating.step);
  let next = stepStartMs(t + 1, rotating.step);
  const tailEnd = stepStartMs(t, rotating.step) + door.seqTimeout * 1000;
  if (tailEnd > now) next = Math.min(next, tailEnd);
  if (rotating.previousUntil !== undefined && rotating.previousUntil > now)
    next = Math.min(next, rotating.previousUntil);
  return next;
}

/** `step 1966666, IPv4` (log lines), with the previous secret named. */
export const describeDerived = (d: DerivedDoor): string =>
  `step ${d.step}, IPv${d.family}${d.secret === 'previous' ? ', previous secret' : ''}`;
