import { describe, expect, it } from 'vitest';
import { SessionKeeper, keepPlan, refreshDelayMs } from '../../src/session.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { profile, tcp } from '../helpers/fake-deps.js';

function setup(openForS: number, reknock?: () => Promise<void>) {
  const clock = new FakeClock();
  const events: string[] = [];
  const warn: string[] = [];
  const t0 = clock.now();
  const keeper = new SessionKeeper({
    host: 'ssh.maths.fr',
    openForS,
    clock,
    warn: { write: (s: string) => warn.push(s) },
    reknock:
      reknock ??
      (async () => {
        events.push(`reknock at ${(clock.now() - t0) / 1000}`);
      }),
    close: async () => {
      events.push(`close at ${(clock.now() - t0) / 1000}`);
    },
  });
  return { clock, keeper, events, warn };
}

describe('refreshDelayMs', () => {
  it('is two thirds of the grant, never under 10 s', () => {
    expect(refreshDelayMs(300)).toBe(200_000);
    expect(refreshDelayMs(20)).toBe(13_333);
    expect(refreshDelayMs(12)).toBe(10_000);
    expect(refreshDelayMs(3)).toBe(10_000);
  });

  it('for a rotating door, never within one step of the knock before (it would be a replay)', () => {
    // open_for 20 s and a 30 s step: 2/3 of the grant (13.3 s) would knock the same step's
    // sequence again, which the server refuses as a replay; a step and a second is later.
    expect(refreshDelayMs(20, 31_000)).toBe(31_000);
    expect(refreshDelayMs(300, 31_000)).toBe(200_000);
  });
});

describe('SessionKeeper', () => {
  it('knocks again at two thirds of open_for while the session lives, then closes once', async () => {
    const { clock, keeper, events } = setup(20);
    keeper.start();
    await clock.advance(60_000);
    // Whole ticks of 1 s: 14, 28, 42, 56 (each at least 13.3 s after the previous).
    expect(events).toEqual(['reknock at 14', 'reknock at 28', 'reknock at 42', 'reknock at 56']);
    await keeper.stop();
    await keeper.stop();
    expect(events.at(-1)).toBe('close at 60');
    expect(events.filter((e) => e.startsWith('close'))).toHaveLength(1);
    // Nothing left running: the process can exit.
    expect(clock.pending).toBe(0);
    await clock.advance(60_000);
    expect(events).toHaveLength(5);
  });

  it('never knocks more often than every 10 s, whatever open_for says', async () => {
    const { clock, keeper, events } = setup(3);
    keeper.start();
    await clock.advance(35_000);
    expect(events).toEqual(['reknock at 10', 'reknock at 20', 'reknock at 30']);
  });

  it('a failed re-knock is reported on stderr and the session goes on', async () => {
    let calls = 0;
    const { clock, keeper, warn } = setup(20, async () => {
      calls++;
      if (calls === 1) throw new Error('getaddrinfo EAI_AGAIN ssh.maths.fr');
    });
    keeper.start();
    await clock.advance(30_000);
    expect(calls).toBe(2);
    expect(warn).toEqual([
      'knock: could not knock ssh.maths.fr again: getaddrinfo EAI_AGAIN ssh.maths.fr; the session goes on, next try in 13.3 s\n',
    ]);
    expect(keeper.reknocks).toBe(1);
  });

  it('a close after a re-knock still under way waits for it', async () => {
    let finish: () => void = () => undefined;
    const order: string[] = [];
    const clock = new FakeClock();
    const keeper = new SessionKeeper({
      host: 'h',
      openForS: 20,
      clock,
      warn: { write: () => undefined },
      reknock: () =>
        new Promise<void>((r) => {
          finish = () => {
            order.push('reknock done');
            r();
          };
        }),
      close: async () => {
        order.push('close');
      },
    });
    keeper.start();
    await clock.advance(14_000);
    const stopped = keeper.stop();
    await clock.advance(0);
    expect(order).toEqual([]);
    finish();
    await stopped;
    expect(order).toEqual(['reknock done', 'close']);
  });

  it('waking past the grant: stops keeping, says so, knocks the close sequence', async () => {
    const { clock, keeper, events, warn } = setup(20);
    keeper.start();
    await clock.advance(5_000);
    await clock.sleep(3_600_000);
    expect(warn.join('')).toMatch(/asleep for 3600 s, past the 20 s grant of ssh\.maths\.fr/);
    expect(events).toEqual(['close at 3605']);
    await clock.advance(60_000);
    expect(events).toHaveLength(1);
  });

  it('a short sleep inside the grant is not the end: the re-knock comes at once', async () => {
    const { clock, keeper, events, warn } = setup(300);
    keeper.start();
    await clock.sleep(250_000);
    expect(warn).toEqual([]);
    expect(events).toEqual(['reknock at 250']);
  });
});

describe('keepPlan', () => {
  const p = profile('h', { sequence: [tcp(1)], openFor: 20, closeSequence: [tcp(9)] });
  it('follows keep_open, and --keep-open over it', () => {
    expect(keepPlan(p, undefined, 'h')).toMatchObject({ keep: false, notes: [] });
    expect(keepPlan({ ...p, keepOpen: true }, undefined, 'h')).toMatchObject({
      keep: true,
      openForS: 20,
      closeSequence: [tcp(9)],
      notes: [],
    });
    expect(keepPlan(p, true, 'h').keep).toBe(true);
  });

  it('one-time sequences: only with --keep-open, and says what it costs', () => {
    const ots = { ...profile('h', { oneTimeSequences: '~/h.ots', openFor: 300 }), keepOpen: true };
    const off = keepPlan(ots, undefined, 'h');
    expect(off.keep).toBe(false);
    expect(off.notes[0]).toMatch(/each re-knock uses a line \(18 an hour\); pass --keep-open/);
    const on = keepPlan(ots, true, 'h');
    expect(on.keep).toBe(true);
    expect(on.notes[0]).toMatch(/uses a line of ~\/h\.ots every 200 s/);
  });

  it('rotating profiles: re-knocks a step and a second apart, and says when open_for is too short for that', async () => {
    const rotating = {
      ...profile('h', { openFor: 20 }),
      keepOpen: true,
      rotating: {
        door: 'ssh',
        secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
        length: 4,
        step: 30,
        low: 10000,
        high: 65000,
        protocols: 'tcp' as const,
      },
    };
    const short = keepPlan(rotating, undefined, 'h');
    expect(short).toMatchObject({ keep: true, minRefreshMs: 31_000 });
    expect(short.notes[0]).toMatch(
      /not longer than a step of h's rotating door and a second \(31 s/,
    );
    const long = keepPlan({ ...rotating, openFor: 300 }, undefined, 'h');
    expect(long).toMatchObject({ keep: true, minRefreshMs: 31_000, notes: [] });
    // A keeper built from the plan waits the step out.
    const clock = new FakeClock();
    const at: number[] = [];
    const t0 = clock.now();
    const keeper = new SessionKeeper({
      host: 'h',
      openForS: 20,
      minRefreshMs: short.minRefreshMs,
      clock,
      warn: { write: () => undefined },
      reknock: async () => {
        at.push((clock.now() - t0) / 1000);
      },
    });
    keeper.start();
    await clock.advance(65_000);
    await keeper.stop();
    expect(at).toEqual([31, 62]);
  });

  it('no open_for: assumes the server default, and says so', () => {
    const plan = keepPlan(profile('h', { sequence: [tcp(1)], keepOpen: true }), undefined, 'h');
    expect(plan).toMatchObject({ keep: true, openForS: 300 });
    expect(plan.notes[0]).toMatch(/no open_for: assuming the server grants 300 s/);
  });
});
