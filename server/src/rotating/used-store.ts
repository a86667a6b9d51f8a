/**
 * What a rotating door must remember so that each derived sequence opens once: the
 * (door, secret, family, step) entries already used. Behind a small interface, so a
 * cluster of daemons can share it (e.g. Redis `SET key 1 NX PXAT until`); the daemon
 * ships a file-backed store under /var/lib/knock-server, written atomically.
 */
import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@knock/shared/node';

/** One derived sequence: door label, secret fingerprint, address family, step number. */
export interface UsedKey {
  door: string;
  /** Which secret (rotatingFingerprint): the current and a previous one differ. */
  secret: string;
  family: 4 | 6;
  step: number;
}

export interface UsedSequenceStore {
  /**
   * Marks the sequence used. True when this caller is the first (the door opens), false
   * when it was used already (a replay). A shared store must make this atomic across
   * daemons; it may answer asynchronously. `keepUntilMs`: after then no daemon accepts
   * the sequence anyway, the entry may go.
   */
  claim(key: UsedKey, keepUntilMs: number): boolean | Promise<boolean>;
  /** What this daemon knows is used (planning leaves those out of the detector and filter). */
  isUsed(key: UsedKey): boolean;
  /** Resolves when every claim so far is durable (shutdown, tests). */
  flush(): Promise<void>;
}

export const usedKeyText = (k: UsedKey): string =>
  `${JSON.stringify(k.door)} ${k.secret} ${k.family} ${k.step}`;

/** In memory only: for tests, and for `check`-like uses with nothing to persist. */
export class MemoryUsedStore implements UsedSequenceStore {
  protected readonly entries = new Map<string, { key: UsedKey; until: number }>();
  constructor(protected readonly now: () => number = Date.now) {}

  claim(key: UsedKey, keepUntilMs: number): boolean {
    this.prune();
    const text = usedKeyText(key);
    if (this.entries.has(text)) return false;
    this.entries.set(text, { key, until: keepUntilMs });
    this.changed();
    return true;
  }

  isUsed(key: UsedKey): boolean {
    return this.entries.has(usedKeyText(key));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Entries kept now (tests, the state file). */
  list(): { key: UsedKey; until: number }[] {
    return [...this.entries.values()];
  }

  protected prune(): void {
    const now = this.now();
    for (const [text, entry] of this.entries) if (entry.until <= now) this.entries.delete(text);
  }

  protected changed(): void {
    // nothing to persist
  }
}

export const STATE_FILE = 'rotating-used.json';
export const DEFAULT_STATE_DIR = '/var/lib/knock-server';

interface StateFile {
  version: 1;
  used: { door: string; secret: string; family: 4 | 6; step: number; until: number }[];
}

/**
 * Remembers used sequences in `DIR/rotating-used.json`. A claim is decided in memory at
 * once (so the door opens without waiting for the disk) and written right after, one
 * write at a time, each atomic (temporary file, fsync, rename): a crash leaves the old
 * or the new state, never half of one. Shutdown waits for the last write.
 */
export class FileUsedStore extends MemoryUsedStore {
  readonly path: string;
  /**
   * Milliseconds between a claim and its write: the door's command starts first (an
   * fsync right then holds up the command's own file writes on a busy disk: +4 ms).
   */
  static WRITE_DELAY_MS = 20;
  #writing: Promise<void> | undefined;
  #dirty = false;
  #onError: (error: Error) => void;

  private constructor(
    readonly dir: string,
    now: () => number,
    onError: (error: Error) => void,
  ) {
    super(now);
    this.path = join(dir, STATE_FILE);
    this.#onError = onError;
  }

  /**
   * Opens the store, reading what an earlier run remembered. A file that cannot be parsed
   * is moved aside (`.corrupt`) and reported through `onError`; the daemon goes on.
   */
  static async open(
    dir: string,
    options: { now?: () => number; onError?: (error: Error) => void } = {},
  ): Promise<FileUsedStore> {
    const store = new FileUsedStore(dir, options.now ?? Date.now, options.onError ?? (() => {}));
    let text: string | undefined;
    try {
      text = await readFile(store.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      try {
        const state = JSON.parse(text) as StateFile;
        if (state.version !== 1 || !Array.isArray(state.used)) throw new Error('unknown format');
        for (const e of state.used) {
          if (
            typeof e.door !== 'string' ||
            typeof e.secret !== 'string' ||
            (e.family !== 4 && e.family !== 6) ||
            !Number.isSafeInteger(e.step) ||
            typeof e.until !== 'number'
          )
            throw new Error('bad entry');
          const key: UsedKey = { door: e.door, secret: e.secret, family: e.family, step: e.step };
          store.entries.set(usedKeyText(key), { key, until: e.until });
        }
        store.prune();
      } catch (error) {
        await rename(store.path, `${store.path}.corrupt`).catch(() => undefined);
        store.#onError(
          new Error(
            `${store.path} could not be read (${(error as Error).message}): moved to ${store.path}.corrupt; sequences used before this start may be replayed until their steps pass`,
          ),
        );
      }
    }
    return store;
  }

  protected override changed(): void {
    this.#dirty = true;
    this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, FileUsedStore.WRITE_DELAY_MS));
    try {
      while (this.#dirty) {
        this.#dirty = false;
        const state: StateFile = {
          version: 1,
          used: this.list().map(({ key, until }) => ({ ...key, until })),
        };
        try {
          await mkdir(this.dir, { recursive: true, mode: 0o700 });
          await writeFileAtomic(this.path, `${JSON.stringify(state)}\n`, { mode: 0o600 });
        } catch (error) {
          this.#onError(
            new Error(
              `cannot save used rotating sequences to ${this.path}: ${(error as Error).message}`,
            ),
          );
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }

  override async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }
}
