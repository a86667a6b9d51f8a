/**
 * The daemon's side of rotating doors, kept out of daemon.ts: planning (with the ids the
 * daemon hands out), the step timer, and what happens when a derived sequence completes
 * (claim it in the used store, then open, once; a replay is refused and logged).
 */
import { formatSequence, type Door } from '@knock/shared';
import type { Logger } from '../daemon/log.js';
import type { Clock, Timer } from '../daemon/deps.js';
import { describeDerived, nextPlanChange, planRotatingDoor, type DerivedDoor } from './planner.js';
import type { UsedSequenceStore } from './used-store.js';

export type { DerivedDoor };

export interface RotatingDeps {
  clock: Clock;
  log: Logger;
  store: UsedSequenceStore;
  ipv4Only: boolean;
  newId: () => number;
  /** Plans every rotating door again and installs the result (doors, filter, timer). */
  replan: () => void;
}

/** Timers longer than this are re-armed in pieces (setTimeout's limit is ~24.8 days). */
const MAX_TIMER_MS = 3_600_000;
/**
 * A used sequence leaves the detector and the filter this long after it opened, so that
 * re-planning (a new capture filter) does not compete with the door's command for the
 * CPU. Meanwhile a replay may complete, and the store refuses it.
 */
const REPLAN_AFTER_OPEN_MS = 20;

export class RotatingDoors {
  readonly #deps: RotatingDeps;
  #byId = new Map<number, DerivedDoor>();
  #timer: Timer | undefined;
  #afterOpen: Timer | undefined;
  #stopped = false;
  readonly #claims = new Set<Promise<unknown>>();

  constructor(deps: RotatingDeps) {
    this.#deps = deps;
  }

  /** Derived doors known (0: no rotating door, nothing to look up per packet). */
  get size(): number {
    return this.#byId.size;
  }

  plan(door: Door, previous: readonly DerivedDoor[] | undefined): DerivedDoor[] {
    return planRotatingDoor(door, this.#deps.clock.now(), previous, {
      ipv4Only: this.#deps.ipv4Only,
      store: this.#deps.store,
      newId: this.#deps.newId,
    });
  }

  index(derived: readonly DerivedDoor[]): void {
    this.#byId = new Map(derived.map((d) => [d.detector.id, d]));
  }

  find(id: number): DerivedDoor | undefined {
    return this.#byId.get(id);
  }

  /** `{ family }` for the capture filter when `id` is a derived door, else nothing. */
  filterFamily(id: number): { family?: 4 | 6 } {
    const derived = this.#byId.get(id);
    return derived === undefined ? {} : { family: derived.family };
  }

  /** Arms the timer for the next plan change of any of `doors` (none: no timer). */
  arm(doors: readonly Door[]): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#stopped) return;
    const now = this.#deps.clock.now();
    let next = Infinity;
    for (const door of doors) next = Math.min(next, nextPlanChange(door, now));
    if (next === Infinity) return;
    const wait = Math.max(0, next - now);
    this.#timer = this.#deps.clock.setTimer(
      () => {
        this.#timer = undefined;
        if (wait > MAX_TIMER_MS) this.arm(doors);
        else this.#deps.replan();
      },
      Math.min(wait, MAX_TIMER_MS),
    );
  }

  /**
   * A derived sequence completed: the first to claim it opens the door (`open`), anyone
   * later is refused, whatever the address. The sequence leaves the detector and the
   * filter at once.
   */
  open(derived: DerivedDoor, src: string, family: 4 | 6, who: string, open: () => void): void {
    const { log } = this.#deps;
    const door = derived.detector.name;
    const what = describeDerived(derived);
    if (family !== derived.family) {
      // Each family has its own sequence, so that a dual-stack client's two knocks differ.
      log.log({
        level: 'info',
        event: 'replayRefused',
        msg: `${who}: ${door}: sequence of ${what} knocked over IPv${family}: not opening`,
        src,
        door,
        step: derived.step,
      });
      return;
    }
    const decide = (first: boolean): void => {
      if (!first) {
        log.log({
          level: 'info',
          event: 'replayRefused',
          msg: `${who}: ${door}: sequence of ${what} already used: replay refused`,
          src,
          door,
          step: derived.step,
        });
        return;
      }
      log.log({
        level: 'info',
        event: 'open',
        msg: `${who}: ${door}: OPEN SESAME (${what})`,
        src,
        door,
        step: derived.step,
      });
      if (log.debugEnabled)
        log.debug(
          `${who}: ${door}: matched the derived sequence ${formatSequence(derived.detector.sequence)} (${what})`,
        );
      open();
    };
    let claimed: boolean | Promise<boolean>;
    try {
      claimed = this.#deps.store.claim(derived.key, derived.keepUntilMs);
    } catch (error) {
      log.error('error', `${door}: cannot record a used sequence: ${(error as Error).message}`);
      return;
    }
    if (typeof claimed === 'boolean') {
      decide(claimed);
      this.#replanSoon();
      return;
    }
    const pending = claimed
      .then(decide, (error: unknown) =>
        log.error('error', `${door}: cannot record a used sequence: ${(error as Error).message}`),
      )
      .finally(() => {
        this.#claims.delete(pending);
        this.#replanSoon();
      });
    this.#claims.add(pending);
  }

  /** One re-plan shortly after opens (a burst of them shares it). */
  #replanSoon(): void {
    if (this.#afterOpen !== undefined || this.#stopped) return;
    this.#afterOpen = this.#deps.clock.setTimer(() => {
      this.#afterOpen = undefined;
      this.#deps.replan();
    }, REPLAN_AFTER_OPEN_MS);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#afterOpen?.cancel();
    this.#afterOpen = undefined;
  }

  /** Waits for claims in flight and for the store's writes. */
  async flush(): Promise<void> {
    await Promise.all(this.#claims);
    await this.#deps.store.flush();
  }
}
