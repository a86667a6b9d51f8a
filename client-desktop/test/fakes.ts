import type { Clock } from '../src/main/tray-controller.js';

// The fakes both UIs' tests use live in shared/test/helpers/ui-fakes.ts; the tray adds a clock.
export { FakeStore, ManualKnocker, PATH, lab, maths } from '../../shared/test/helpers/ui-fakes.js';

/** A clock the test moves; `every` timers fire when time passes them. */
export class FakeClock implements Clock {
  time = Date.UTC(2026, 0, 1, 12, 0, 0);
  timers = new Set<{ ms: number; next: number; tick: () => void }>();
  now = (): number => this.time;
  every = (ms: number, tick: () => void): (() => void) => {
    const timer = { ms, next: this.time + ms, tick };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  };
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers].filter((t) => t.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.time = due.next;
      due.next += due.ms;
      due.tick();
    }
    this.time = end;
  }
}

export const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
