import type { SessionClock } from '../../src/session.js';

/**
 * A wall clock and timers under the test's control. `advance` moves time and fires what
 * falls due, in order; `sleep` moves the wall clock with no timer firing (a suspended
 * machine), then fires what is overdue, late, as Node does after a resume.
 */
export class FakeClock implements SessionClock {
  #now: number;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  constructor(start = Date.UTC(2026, 11, 2, 13, 0, 0)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  /** Moves time forward by `ms`, firing every timer that falls due (with a turn of the event loop between). */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = Math.max(this.#now, due[1].at);
      due[1].fn();
      await new Promise((r) => setImmediate(r));
    }
    this.#now = end;
    await new Promise((r) => setImmediate(r));
  }
  /** The machine sleeps `ms`: the wall clock jumps, no timer fires until it wakes. */
  async sleep(ms: number): Promise<void> {
    this.#now += ms;
    for (const t of this.#timers.values()) t.at = this.#now;
    await this.advance(0);
  }
}
