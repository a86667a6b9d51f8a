/**
 * The expiry timer: one timer at the detector's next deadline, so timeouts are logged
 * when they happen, with bounded work per turn; and, after a flood, giving the attempt
 * table's memory back to the system once things are calm.
 */
import type { Detector, DetectorAction } from '../detect/detector.js';
import type { Logger } from './log.js';
import type { CaptureDeps, Clock, Timer } from './deps.js';

/** Attempts expired per timer turn; the timer comes back at once for the rest. */
const EXPIRE_BATCH = 2_000;
/** After an error on the expiry path, the next try (ms). */
const EXPIRE_RETRY_MS = 1000;
/**
 * After the attempt table grew past this many slots and then shrank to a quarter of
 * its peak, memory is given back to the system (capture.releaseMemory) once
 * RELEASE_DELAY_MS have passed: a full collection costs tens of milliseconds, so it
 * happens only after a flood, at most every RELEASE_DELAY_MS.
 */
const RELEASE_PEAK_SLOTS = 65_536;
const RELEASE_DELAY_MS = 2000;

export interface ExpiryDeps {
  clock: Clock;
  log: Logger;
  capture: Pick<CaptureDeps, 'releaseMemory'>;
  detector: () => Detector | undefined;
  stopping: () => boolean;
  /** Logs and acts on what the detector said. */
  handle: (actions: readonly DetectorAction[], now: number) => void;
}

export class ExpiryTimer {
  readonly #deps: ExpiryDeps;
  #timer: Timer | undefined;
  #timerAt: number | undefined;
  #release: Timer | undefined;
  /** Largest attempt-table capacity since memory was last given back. */
  #capacityPeak = 0;
  readonly #out: DetectorAction[] = [];

  constructor(deps: ExpiryDeps) {
    this.#deps = deps;
  }

  /** The attempt table has `capacity` slots now (after a packet). */
  notePeak(capacity: number): void {
    if (capacity > this.#capacityPeak) this.#capacityPeak = capacity;
  }

  /** One timer, at the detector's next deadline: timeouts are logged when they happen. */
  arm(): void {
    const { clock, detector } = this.#deps;
    const deadline = detector()?.nextDeadline();
    // Keep a timer that fires no later than needed: under a flood the oldest attempt
    // changes with almost every packet, and re-arming each time would cost more than
    // the knock itself. A timer that fires early finds nothing and re-arms.
    if (
      deadline === undefined ||
      !Number.isFinite(deadline) ||
      (this.#timerAt !== undefined && this.#timerAt <= deadline)
    )
      return;
    this.#timer?.cancel();
    this.#timerAt = deadline;
    this.#timer = clock.setTimer(() => this.#expire(), Math.max(0, deadline - clock.now()));
  }

  cancel(): void {
    this.#timer?.cancel();
  }

  cancelRelease(): void {
    this.#release?.cancel();
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = undefined;
    const detector = this.#deps.detector();
    if (!detector || this.#deps.stopping()) return;
    const out = this.#out;
    out.length = 0;
    try {
      // Bounded work per turn: a flood's worth of expiries never stalls the capture.
      const now = this.#deps.clock.now();
      detector.expire(now, out, EXPIRE_BATCH);
      if (out.length > 0) this.#deps.handle(out, now);
    } catch (error) {
      // A timer callback that throws would reach the process's fatal handler: log, go on.
      this.#deps.log.error(
        'error',
        `internal error while expiring attempts: ${(error as Error).message} (a bug in knock-server: please report it)`,
      );
      // Try again in a second, not in a tight loop if the error repeats.
      this.#timerAt = this.#deps.clock.now() + EXPIRE_RETRY_MS;
      this.#timer = this.#deps.clock.setTimer(() => this.#expire(), EXPIRE_RETRY_MS);
      return;
    }
    this.arm();
    this.#watchMemory(detector);
  }

  /** A flood's attempts are gone: give their memory back, once things are calm. */
  #watchMemory(detector: Detector): void {
    const capture = this.#deps.capture;
    const release = capture.releaseMemory;
    if (
      release === undefined ||
      this.#release !== undefined ||
      this.#capacityPeak < RELEASE_PEAK_SLOTS ||
      detector.capacity * 4 > this.#capacityPeak
    )
      return;
    this.#release = this.#deps.clock.setTimer(() => {
      this.#release = undefined;
      if (this.#deps.stopping()) return;
      this.#capacityPeak = this.#deps.detector()?.capacity ?? 0;
      release.call(capture);
    }, RELEASE_DELAY_MS);
  }
}
