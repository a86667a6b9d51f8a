// Issue 12 in the TUI: the countdown of an opened host (from its open_for), v to verify
// only, c to close, / to filter, ? for the help screen. The clock is injected and moved
// by hand; the knock service is the manual fake.
import type { Profile } from '@knock/shared';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from '../../src/ui/App.js';
import type { TuiClock } from '../../src/ui/hooks/use-clock.js';
import { countdown, initialState, reducer, visibleProfiles } from '../../src/ui/state.js';
import { FakeStore, ManualKnocker, keys, lab, maths, tick } from './fakes.js';

class ManualClock implements TuiClock {
  t = Date.UTC(2026, 11, 2, 14, 0, 0);
  #fns = new Set<() => void>();
  now = () => this.t;
  every(_ms: number, fn: () => void): () => void {
    this.#fns.add(fn);
    return () => this.#fns.delete(fn);
  }
  /** Moves the clock by `s` seconds and ticks once. */
  advance(s: number): void {
    this.t += s * 1000;
    for (const fn of this.#fns) fn();
  }
}

const session: Profile = {
  ...maths,
  openFor: 300,
  closeSequence: [{ port: 9000, protocol: 'tcp' }],
};
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 2000, interval: 10 });
let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

async function start(profiles: Profile[] = [session, lab]) {
  const clock = new ManualClock();
  const knocker = new ManualKnocker();
  const view = render(<App store={new FakeStore(profiles)} knocker={knocker} clock={clock} />);
  cleanup = view.unmount;
  await tick();
  const frame = () => view.lastFrame() ?? '';
  const press = async (...inputs: string[]) => {
    for (const input of inputs) {
      view.stdin.write(input);
      await tick();
    }
  };
  await eventually(() => expect(frame()).toContain('ssh.maths.fr'));
  return { clock, knocker, frame, press };
}

describe('TUI: session-scoped access', () => {
  it('a host knocked open shows its countdown from open_for, ticking down', async () => {
    const { clock, knocker, frame, press } = await start();
    // The OPEN column takes room only while a countdown runs.
    expect(frame()).not.toMatch(/FAMILY\s+OPEN/);
    await press(keys.enter);
    knocker.finish({ status: 'open', address: '192.0.2.2', port: 22 });
    await eventually(() => expect(frame()).toMatch(/HOST\s+SEQUENCE\s+PORT\s+FAMILY\s+OPEN/));
    await eventually(() =>
      expect(frame()).toMatch(/❯ ssh\.maths\.fr\s+1228,1227\s+22\s+any\s+5:00 left/),
    );
    clock.advance(48);
    await eventually(() => expect(frame()).toContain('4:12 left'));
    clock.advance(300);
    await eventually(() => expect(frame()).not.toContain('left'));
  });

  it('v verifies only (no knock); a closed port ends the countdown', async () => {
    const { clock, knocker, frame, press } = await start();
    await press(keys.enter);
    knocker.finish({ status: 'open', address: '192.0.2.2', port: 22 });
    await eventually(() => expect(frame()).toContain('5:00 left'));
    clock.advance(10);
    await press('v');
    expect(knocker.options.at(-1)).toMatchObject({ mode: 'verify' });
    await eventually(() => expect(frame()).toMatch(/ssh\.maths\.fr: resolving/));
    knocker.finish({ status: 'closed', port: 22, reason: 'connection refused' });
    await eventually(() => expect(frame()).toContain('still closed: connection refused'));
    expect(frame()).not.toContain('left');
  });

  it('c knocks the close sequence and the countdown goes', async () => {
    const { knocker, frame, press } = await start();
    await press(keys.enter);
    knocker.finish({ status: 'open', address: '192.0.2.2', port: 22 });
    await eventually(() => expect(frame()).toContain('5:00 left'));
    await press('c');
    expect(knocker.options.at(-1)).toMatchObject({ mode: 'close' });
    knocker.emit({ type: 'sent', knock: { port: 9000, protocol: 'tcp' }, index: 0, total: 1 });
    await eventually(() => expect(frame()).toContain('sent 9000 ✓'));
    knocker.finish({ status: 'sent', addresses: ['192.0.2.2'] });
    await eventually(() => expect(frame()).not.toContain('5:00 left'));
  });

  it('/ filters the list by host; Enter keeps it, Esc clears it', async () => {
    const { frame, press } = await start();
    await press('/', 'l', 'a', 'b');
    await eventually(() => expect(frame()).toContain('/ lab▌'));
    expect(frame()).not.toContain('ssh.maths.fr');
    await eventually(() => expect(frame()).toMatch(/❯ lab\.example\.org/));
    await press(keys.enter);
    await eventually(() => expect(frame()).toContain('(Esc clears)'));
    await press(keys.escape);
    await eventually(() => expect(frame()).toContain('ssh.maths.fr'));
    expect(frame()).toContain('lab.example.org');
  });

  it('? shows what every key does; any key goes back', async () => {
    const { frame, press } = await start();
    expect(frame()).toContain('v verify · c close · / filter');
    await press('?');
    await eventually(() => expect(frame()).toContain('Keys'));
    expect(frame()).toMatch(/v\s+verify only/);
    expect(frame()).toMatch(/c\s+close: knock the profile's close_sequence/);
    expect(frame()).not.toContain('1228,1227');
    await press('x');
    await eventually(() => expect(frame()).toContain('1228,1227'));
  });
});

describe('TUI reducer (pure)', () => {
  const loaded = reducer(initialState('/p'), {
    type: 'loaded',
    path: '/p',
    profiles: [session, lab],
    exists: true,
  });
  it('a countdown starts at the knock-done time and is cleared by a close', () => {
    let s = reducer(loaded, { type: 'knock-start', profile: session });
    s = reducer(s, {
      type: 'knock-done',
      host: session.host,
      outcome: { status: 'open', address: 'a', port: 22 },
      at: 1000,
    });
    expect(s.grants[session.host]).toEqual({ until: 301_000, openFor: 300 });
    s = reducer(s, { type: 'knock-start', profile: session, mode: 'close' });
    expect(s.run?.knocks).toEqual([{ port: 9000, protocol: 'tcp' }]);
    s = reducer(s, {
      type: 'knock-done',
      host: session.host,
      outcome: { status: 'sent', addresses: [] },
      at: 2000,
    });
    expect(s.grants).toEqual({});
  });
  it('a profile without open_for has no countdown; a failed knock keeps an earlier one', () => {
    let s = reducer(loaded, { type: 'knock-start', profile: lab });
    s = reducer(s, {
      type: 'knock-done',
      host: lab.host,
      outcome: { status: 'open', address: 'a', port: 2222 },
      at: 0,
    });
    expect(s.grants).toEqual({});
  });
  it('the filter narrows what is selected and moved through', () => {
    let s = reducer(loaded, { type: 'filter-start' });
    s = reducer(s, { type: 'filter-type', text: 'LAB' });
    expect(visibleProfiles(s).map((p) => p.host)).toEqual(['lab.example.org']);
    s = reducer(s, { type: 'move', by: 1 });
    expect(s.selected).toBe(0);
    s = reducer(s, { type: 'filter-end', keep: false });
    expect(visibleProfiles(s)).toHaveLength(2);
  });
  it('countdown text', () => {
    expect([countdown(252), countdown(9), countdown(3723)]).toEqual(['4:12', '0:09', '1:02:03']);
  });
});
