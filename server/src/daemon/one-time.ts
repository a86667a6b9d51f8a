/**
 * One_Time_Sequences: a door whose sequence is spent once it opened. The sequence
 * leaves the detector and the filter at once, the file gives the next one; with a
 * cluster, the sequence is claimed in the store first, and a sequence used on another
 * node moves the door on here too.
 */
import { formatSequence, parseSequence, sameSequence, type Knock } from '@knock/shared';
import { describeRefusal, type SingleUseStore } from '../cluster/single-use.js';
import type { DoorSet, RunningDoor } from './doors.js';
import type { Logger } from './log.js';
import type { ActionsDeps, OtsFileDeps } from './deps.js';

export interface OneTimeDeps {
  doors: DoorSet;
  ots: OtsFileDeps;
  actions: ActionsDeps;
  log: Logger;
  singleUse: SingleUseStore | undefined;
  stopping: () => boolean;
  /** Installs the doors that are on now (detector, filter, timer). */
  pushDoors: () => void;
}

export class OneTimeRotation {
  readonly #deps: OneTimeDeps;
  readonly #pending = new Set<Promise<void>>();

  constructor(deps: OneTimeDeps) {
    this.#deps = deps;
  }

  /** Waits for every rotation (and cluster claim) in progress. */
  async settled(): Promise<void> {
    await Promise.all(this.#pending);
  }

  /** A one-time door's sequence completed: open it (on a cluster, once claimed) and rotate. */
  opened(running: RunningDoor, src: string, family: 4 | 6, who: string): void {
    if (this.#deps.singleUse) {
      this.#openSingleUse(this.#deps.singleUse, running, src, family, who);
      return;
    }
    this.#deps.actions.open(running.door, src, family);
    this.#track(this.#rotate(running));
  }

  /** Another node used a one-time sequence of a door we have too: mark it used here as well. */
  usedElsewhere(scope: string, id: string, node: string): void {
    if (this.#deps.stopping() || !scope.startsWith('ots:')) return;
    const name = scope.slice(4);
    const running = this.#deps.doors.oneTime(name);
    const parsed = parseSequence(id);
    if (!running || running.disabled || parsed.knocks.length === 0) return;
    const current = sameSequence(parsed.knocks, running.detector.sequence);
    this.#deps.log.info(
      'cluster',
      `${name}: one time sequence ${id} was used on node ${node}${current ? ': moving to the next one' : ''}`,
      { door: name },
    );
    // After any rotation in progress, so both read and write the file in turn.
    const previous = Promise.all(this.#pending);
    this.#track(previous.then(() => this.#rotate(running, parsed.knocks)));
  }

  logExhausted(name: string): void {
    this.#deps.log.info(
      'otsExhausted',
      `no more sequences left in the one time sequences file for door ${name} --> disabling the door`,
      { door: name },
    );
  }

  /**
   * The sequence just used is spent: the door leaves the detector and the filter at
   * once (no replay while the file is written), then comes back with the next
   * sequence, for IPv4 and IPv6 alike; with none left it stays off and the daemon
   * goes on (knockd 0.8 aborts here).
   */
  async #rotate(
    running: RunningDoor,
    used: readonly Knock[] = running.detector.sequence,
  ): Promise<void> {
    const path = running.door.oneTimeSequences;
    if (path === undefined) return;
    running.rotating = true;
    this.#deps.pushDoors();
    let next: Knock[] | undefined;
    try {
      const consumed = await this.#deps.ots.consume(path, used);
      next = consumed.next;
      running.remaining = consumed.remaining;
    } catch (error) {
      running.rotating = false;
      running.disabled = true;
      this.#deps.log.error(
        'otsExhausted',
        `${running.door.name}: cannot update the one time sequences file ${path}: ${(error as Error).message} --> disabling the door until the next reload`,
        { door: running.door.name },
      );
      this.#deps.pushDoors();
      return;
    }
    if (!this.#deps.doors.list.includes(running)) return; // replaced by a reload meanwhile
    running.rotating = false;
    if (next === undefined || next.length === 0) {
      running.disabled = true;
      this.logExhausted(running.door.name);
    } else if (!sameSequence(next, running.detector.sequence)) {
      this.#deps.doors.resequence(running, next);
    }
    this.#deps.pushDoors();
  }

  /**
   * A one-time door on a cluster: the sequence leaves the detector at once (as without a
   * cluster), and the door opens only if the cluster says nobody used it before (the
   * answer comes within the store's knock deadline, or Cluster_Fail decides).
   */
  #openSingleUse(
    store: SingleUseStore,
    running: RunningDoor,
    src: string,
    family: 4 | 6,
    who: string,
  ): void {
    const door = running.door;
    const used = formatSequence(running.detector.sequence);
    this.#track(this.#rotate(running));
    const claim = store.claim({ scope: `ots:${door.name}`, id: used });
    this.#track(
      claim.then((verdict) => {
        if (this.#deps.stopping()) return;
        if (verdict.accept) {
          if (verdict.how === 'failOpen')
            this.#deps.log.error(
              'cluster',
              `${who}: ${door.name}: the cluster store cannot answer (${verdict.detail}); Cluster_Fail = open: one time sequence accepted on this node only`,
              { src, door: door.name },
            );
          this.#deps.actions.open(door, src, family);
        } else
          this.#deps.log.error(
            'cluster',
            `${who}: ${door.name}: one time sequence ${describeRefusal(verdict)}`,
            { src, door: door.name },
          );
      }),
    );
  }

  #track(work: Promise<void>): void {
    const tracked: Promise<void> = work.finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }
}
