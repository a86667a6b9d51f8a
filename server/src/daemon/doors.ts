/**
 * The doors the daemon runs: each door's config and its current sequence, looked up by
 * detector id. The set hands out the detector ids itself (one counter per daemon), and
 * an unchanged door keeps its id across a reload.
 */
import {
  ExitCode,
  KnockError,
  formatSequence,
  type Door,
  type Knock,
  type KnockdConfig,
} from '@knock/shared';
import type { DetectorDoor } from '../detect/detector.js';
import type { DerivedDoor } from '../rotating/daemon-hooks.js';
import type { OtsFileDeps } from './deps.js';

/** One door as the daemon runs it: its config, and its current sequence. */
export interface RunningDoor {
  detector: DetectorDoor;
  door: Door;
  /** One_Time_Sequences: the door is waiting for its file to give the next sequence. */
  rotating: boolean;
  /** One_Time_Sequences used up (or the file broke): the door is off until a reload. */
  disabled: boolean;
  /** One_Time_Sequences: unused sequences left in the file (as last read). */
  remaining?: number;
  /** A rotating door: the derived sequences it accepts now (instead of `detector`). */
  derived?: DerivedDoor[];
}

export interface BuildDeps {
  ots: OtsFileDeps;
  /** Plans a rotating door's derived sequences (given the previous plan of that door). */
  plan: (door: Door, previous: DerivedDoor[] | undefined) => DerivedDoor[];
}

export class DoorSet {
  #nextId = 1;
  #list: RunningDoor[] = [];
  #byId = new Map<number, RunningDoor>();

  /** A detector id not used before by this set. */
  newId(): number {
    return this.#nextId++;
  }

  get list(): RunningDoor[] {
    return this.#list;
  }

  /** Installs `doors` (a reload) and indexes them. */
  replace(doors: RunningDoor[]): void {
    this.#list = doors;
    this.index();
  }

  /** The door a detector id (plain or derived) belongs to. */
  byId(id: number): RunningDoor | undefined {
    return this.#byId.get(id);
  }

  /** Indexes the doors by detector id again (after a sequence or plan changed). */
  index(): void {
    this.#byId = new Map(this.#list.map((d) => [d.detector.id, d]));
    for (const d of this.#list) for (const x of d.derived ?? []) this.#byId.set(x.detector.id, d);
  }

  /** Every derived sequence of every rotating door. */
  derived(): DerivedDoor[] {
    return this.#list.flatMap((d) => d.derived ?? []);
  }

  /** What the detector and the filter watch: doors that are on, derived ones expanded. */
  active(): DetectorDoor[] {
    return this.#list
      .filter((d) => !d.disabled && !d.rotating)
      .flatMap((d) => (d.derived ? d.derived.map((x) => x.detector) : [d.detector]));
  }

  /** The one-time door named `name`, if any. */
  oneTime(name: string): RunningDoor | undefined {
    return this.#list.find((d) => d.door.name === name && d.door.oneTimeSequences);
  }

  /** A one-time door moves on to `next` under a fresh id. */
  resequence(running: RunningDoor, next: Knock[]): void {
    running.detector = { ...running.detector, id: this.newId(), sequence: next };
    this.index();
  }

  /** Builds the doors of `config` (not installed); `previous` gives unchanged doors their ids. */
  async build(
    config: KnockdConfig,
    previous: RunningDoor[] | undefined,
    deps: BuildDeps,
  ): Promise<RunningDoor[]> {
    const doors: RunningDoor[] = [];
    // An unchanged door (name and knocks) keeps its id: the previous doors by that key,
    // in order, each used once (a scan per door made a reload of thousands of doors slow).
    const unchanged = new Map<string, RunningDoor[]>();
    for (const p of previous ?? []) {
      if (p.disabled) continue;
      const key = doorKey(p.door.name, p.detector.sequence);
      const list = unchanged.get(key);
      if (list) list.push(p);
      else unchanged.set(key, [p]);
    }
    for (const door of config.doors) {
      let sequence: readonly Knock[] = door.sequence;
      let disabled = false;
      let remaining: number | undefined;
      if (door.oneTimeSequences !== undefined) {
        const read = await readOts(deps.ots, door, door.oneTimeSequences);
        remaining = read.remaining;
        if (read.current === undefined) disabled = true;
        else sequence = read.current;
      }
      const detector: DetectorDoor = {
        id: this.newId(),
        name: door.name,
        sequence,
        timeoutMs: door.seqTimeout * 1000,
        tcpFlags: door.tcpFlags,
        ...(door.target !== undefined ? { target: door.target } : {}),
      };
      // An unchanged door keeps its id, so nothing about it looks new.
      const same = unchanged.get(doorKey(door.name, sequence))?.shift();
      if (same) detector.id = same.detector.id;
      const running: RunningDoor = {
        detector,
        door,
        rotating: false,
        disabled,
        ...(remaining !== undefined ? { remaining } : {}),
      };
      if (door.rotating)
        running.derived = deps.plan(
          door,
          previous?.find((p) => p.door.name === door.name && p.derived)?.derived,
        );
      doors.push(running);
    }
    return doors;
  }
}

function readOts(ots: OtsFileDeps, door: Door, path: string): ReturnType<OtsFileDeps['read']> {
  return ots.read(path).catch((error: unknown) => {
    throw new KnockError(
      'server.ots',
      `door [${door.name}]: cannot read the one time sequences file ${path}: ${(error as Error).message}`,
      {
        exitCode: ExitCode.otsFile,
        hint: 'create it with knock-server ots generate, or fix One_Time_Sequences',
      },
    );
  });
}

/** Equal for two doors that are the same door across a reload: name and knocks. */
const doorKey = (name: string, knocks: readonly Knock[]): string =>
  `${name}\0${formatSequence(knocks)}`;
