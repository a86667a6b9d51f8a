import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deriveSequence, parseSecret, rotatingSpec, stepAt } from '@knock/shared';
import type { FilterDoor } from '../../src/capture/filter.js';
import { statusDocument } from '../../src/control/operations.js';
import { renderStatus } from '../../src/control/protocol.js';
import { type DaemonDeps } from '../../src/daemon/daemon.js';
import { FileUsedStore, type UsedSequenceStore } from '../../src/rotating/used-store.js';
import { FakeClock, MemoryLog, config, fakeDaemon, flush } from '../daemon/fakes.js';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const OLD = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const door = (extra = '') => `
[ssh]
  Sequence_Secret = ${SECRET}
  Seq_Timeout = 10
  Open_Ports = 22/tcp
  ${extra}
`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(text = door(), extra: Partial<DaemonDeps> = {}, clock = new FakeClock()) {
  const t = fakeDaemon(text, extra, clock);
  /** The sequence of `step` (default: the clock's own) for a family, with `secret`. */
  const sequence = (family: 4 | 6, step = stepAt(clock.now(), 30), secret = SECRET) =>
    deriveSequence(
      rotatingSpec('ssh', { ...config(text).doors[0]!.rotating! }, parseSecret(secret).secret!),
      family,
      step,
    ).map((k) => k.port);
  const send = (src: string, ports: number[]) => t.send(src, ...ports);
  return {
    clock,
    capture: t.capture,
    actions: t.actions,
    memory: t.memory,
    daemon: t.daemon,
    sequence,
    send,
    setConfig: t.setConfig,
    opened: () => t.actions.opened.map((o) => o.src),
  };
}

const stepNow = (clock: FakeClock) => stepAt(clock.now(), 30);

describe('rotating doors in the daemon', () => {
  it('opens for the sequence of the current step, over IPv4 and IPv6, naming the step', async () => {
    const t = setup();
    await t.daemon.start();
    const step = stepNow(t.clock);
    t.send('192.0.2.1', t.sequence(4));
    t.send('2001:db8::1', t.sequence(6));
    expect(t.actions.opened.map((o) => [o.door, o.src, o.family])).toEqual([
      ['ssh', '192.0.2.1', 4],
      ['ssh', '2001:db8::1', 6],
    ]);
    expect(t.memory.messages).toContain(`192.0.2.1: ssh: Stage 1 (step ${step})`);
    expect(t.memory.messages).toContain(`192.0.2.1: ssh: OPEN SESAME (step ${step}, IPv4)`);
    expect(t.memory.messages).toContain(`2001:db8::1: ssh: OPEN SESAME (step ${step}, IPv6)`);
  });

  it('status: the step and the derived sequences watched; only real opens are counted', async () => {
    const t = setup();
    await t.daemon.start();
    const [door] = t.daemon.snapshot().doors;
    // Skew 1: the previous, current and next step, each over IPv4 and IPv6; the clock is at
    // the start of a step, so the step that just left is kept too (for Seq_Timeout).
    expect(door).toMatchObject({
      name: 'ssh',
      state: 'armed',
      rotatingSequences: { step: stepNow(t.clock), accepted: 8 },
    });
    expect(door?.sequence).toBeUndefined();
    const used = t.sequence(4);
    t.send('192.0.2.1', used);
    await flush();
    t.send('198.51.100.7', used);
    await flush();
    expect(t.opened()).toEqual(['192.0.2.1']);
    // The replay reached the last stage but did not open: one open, one observation.
    expect(t.daemon.stats.doors.get('ssh')?.opens).toBe(1);
    expect(t.daemon.stats.openSeconds.count).toBe(1);
    const doc = statusDocument({
      daemon: t.daemon,
      actions: t.actions,
      log: t.memory.logger(),
      version: '9.9.9',
    });
    expect(doc.doors[0]).toMatchObject({
      rotatingSequences: { step: stepNow(t.clock), accepted: 8 },
      opens: 1,
    });
    expect(renderStatus(doc)).toMatch(
      new RegExp(
        `^ssh +secret-derived, step ${stepNow(t.clock)} \\(\\d+ watched\\) +armed .* 1 +0 +\\d+$`,
        'm',
      ),
    );
  });

  it('-D names the derived sequence that matched', async () => {
    const memory = new MemoryLog();
    const t = setup(door(), { log: memory.logger({ debug: true }) });
    await t.daemon.start();
    t.send('192.0.2.1', t.sequence(4));
    expect(memory.entries.map((e) => e.msg)).toContain(
      `192.0.2.1: ssh: matched the derived sequence ${t.sequence(4).join(',')} (step ${stepNow(t.clock)}, IPv4)`,
    );
  });

  it('an IPv4 sequence knocked over IPv6 does not open (each family has its own)', async () => {
    const t = setup();
    await t.daemon.start();
    t.send('2001:db8::1', t.sequence(4));
    expect(t.opened()).toEqual([]);
    t.send('192.0.2.1', t.sequence(6));
    expect(t.opened()).toEqual([]);
  });

  it('each derived sequence opens once: replays from the same or another address, in the same or the next step, are refused', async () => {
    const t = setup();
    await t.daemon.start();
    const used = t.sequence(4);
    t.send('192.0.2.1', used);
    t.send('192.0.2.1', used);
    t.send('198.51.100.7', used);
    expect(t.opened()).toEqual(['192.0.2.1']);
    await t.clock.advance(30_000);
    t.send('198.51.100.7', used);
    t.send('192.0.2.1', used);
    expect(t.opened()).toEqual(['192.0.2.1']);
    // The new step's sequence opens.
    t.send('192.0.2.1', t.sequence(4));
    expect(t.opened()).toEqual(['192.0.2.1', '192.0.2.1']);
  });

  it('the first source to complete wins; another one halfway through the same sequence gets nothing', async () => {
    const t = setup();
    await t.daemon.start();
    const s = t.sequence(4);
    t.send('198.51.100.9', s.slice(0, 3));
    t.send('192.0.2.1', s);
    t.send('198.51.100.9', s.slice(3));
    expect(t.opened()).toEqual(['192.0.2.1']);
  });

  it('accepts the previous and the next step (skew 1), not two steps away', async () => {
    const t = setup(door());
    // Middle of a step, past the Seq_Timeout tail.
    t.clock.time = (Math.floor(t.clock.time / 30_000) + 1) * 30_000 + 15_000;
    await t.daemon.start();
    const step = stepNow(t.clock);
    t.send('192.0.2.1', t.sequence(4, step - 1));
    t.send('192.0.2.2', t.sequence(4, step + 1));
    t.send('192.0.2.3', t.sequence(4, step - 2));
    t.send('192.0.2.4', t.sequence(4, step + 2));
    expect(t.opened()).toEqual(['192.0.2.1', '192.0.2.2']);
  });

  it('rebuilds the capture filter at each step boundary with the ports of the window only', async () => {
    const t = setup(door('Sequence_Skew = 0'));
    t.clock.time = (Math.floor(t.clock.time / 30_000) + 1) * 30_000 + 20_000;
    await t.daemon.start();
    const step = stepNow(t.clock);
    const ports = (s: number) => [...t.sequence(4, s), ...t.sequence(6, s)];
    for (const p of ports(step)) expect(t.capture.opens[0]!.filter).toContain(`${p}/tcp`);
    for (const p of ports(step + 1)) expect(t.capture.opens[0]!.filter).not.toContain(`${p}/tcp`);
    await t.clock.advance(10_000);
    const now = t.capture.source.filters.at(-1)!;
    for (const p of ports(step + 1)) expect(now).toContain(`${p}/tcp`);
    // The old step stays for Seq_Timeout (10 s), then leaves.
    for (const p of ports(step)) expect(now).toContain(`${p}/tcp`);
    await t.clock.advance(10_000);
    const later = t.capture.source.filters.at(-1)!;
    for (const p of ports(step)) expect(later).not.toContain(`${p}/tcp`);
  });

  it('hands the capture filter each derived sequence with its family', async () => {
    const t = setup(door('Sequence_Skew = 0'));
    t.clock.time = (Math.floor(t.clock.time / 30_000) + 1) * 30_000 + 20_000;
    const seen: FilterDoor[][] = [];
    const original = t.capture.buildFilter;
    t.capture.buildFilter = (doors, local, options) => {
      seen.push(doors);
      return original(doors, local, options);
    };
    await t.daemon.start();
    const doors = seen.at(-1)!;
    expect(doors.map((d) => [d.family, d.knocks.map((k) => k.port)])).toEqual([
      [4, t.sequence(4)],
      [6, t.sequence(6)],
    ]);
  });

  it('a knock in progress across a step boundary still completes (even with Sequence_Skew = 0)', async () => {
    const t = setup(door('Sequence_Skew = 0'));
    t.clock.time = (Math.floor(t.clock.time / 30_000) + 1) * 30_000 + 29_000;
    await t.daemon.start();
    const s = t.sequence(4);
    t.send('192.0.2.1', s.slice(0, 2));
    await t.clock.advance(2000);
    t.send('192.0.2.1', s.slice(2));
    expect(t.opened()).toEqual(['192.0.2.1']);
  });

  it('after a SIGHUP, and after a restart on the same state directory, a used sequence stays used', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'knock-state-'));
    dirs.push(dir);
    const clock = new FakeClock();
    const store1 = await FileUsedStore.open(dir, { now: () => clock.now() });
    const t = setup(door(), { usedStore: store1 }, clock);
    await t.daemon.start();
    const used = t.sequence(4);
    t.send('192.0.2.1', used);
    expect(t.opened()).toEqual(['192.0.2.1']);
    await t.daemon.reload();
    t.send('198.51.100.7', used);
    expect(t.opened()).toEqual(['192.0.2.1']);
    await t.daemon.stop();
    const saved = JSON.parse(readFileSync(join(dir, 'rotating-used.json'), 'utf8')) as {
      used: { door: string; family: number; step: number }[];
    };
    expect(saved.used).toMatchObject([{ door: 'ssh', family: 4, step: stepNow(clock) }]);
    expect(JSON.stringify(saved)).not.toContain(SECRET);

    await clock.advance(5000);
    const store2 = await FileUsedStore.open(dir, { now: () => clock.now() });
    const u = setup(door(), { usedStore: store2 }, clock);
    await u.daemon.start();
    u.send('198.51.100.7', used);
    expect(u.opened()).toEqual([]);
    u.send('2001:db8::7', u.sequence(6));
    expect(u.opened()).toEqual(['2001:db8::7']);
  });

  it('a claim the store refuses (another daemon of a cluster was first) does not open', async () => {
    const store: UsedSequenceStore = {
      claim: () => Promise.resolve(false),
      isUsed: () => false,
      flush: () => Promise.resolve(),
    };
    const t = setup(door(), { usedStore: store });
    await t.daemon.start();
    t.send('192.0.2.1', t.sequence(4));
    await flush();
    expect(t.opened()).toEqual([]);
    expect(t.memory.messages.at(-1)).toMatch(
      /ssh: sequence of step \d+, IPv4 already used: replay refused$/,
    );
  });

  it('accepts the previous secret until Sequence_Secret_Previous_Until, then only the new one', async () => {
    const clock = new FakeClock();
    const until = new Date(clock.now() + 60_000).toISOString();
    const text = door(
      `Sequence_Secret_Previous_File = /nonexistent\n  Sequence_Secret_Previous_Until = ${until}`,
    );
    const cfg = config(text);
    cfg.doors[0]!.rotating!.previousSecret = parseSecret(OLD).secret!;
    const t = setup(text, { config: cfg }, clock);
    await t.daemon.start();
    t.send('192.0.2.1', t.sequence(4, undefined, OLD));
    expect(t.opened()).toEqual(['192.0.2.1']);
    expect(t.memory.messages.at(-1)).toMatch(/OPEN SESAME \(step \d+, IPv4, previous secret\)$/);
    await clock.advance(61_000);
    t.send('192.0.2.2', t.sequence(4, undefined, OLD));
    expect(t.opened()).toEqual(['192.0.2.1']);
    t.send('192.0.2.3', t.sequence(4));
    expect(t.opened()).toEqual(['192.0.2.1', '192.0.2.3']);
  });

  it('works beside fixed doors, one timer for the steps', async () => {
    const t = setup(`${door()}\n[fixed]\n  Sequence = 7000,8000\n  Command = echo %IP%\n`);
    await t.daemon.start();
    t.send('192.0.2.5', [7000, 8000]);
    t.send('192.0.2.6', t.sequence(4));
    expect(t.actions.opened.map((o) => o.door)).toEqual(['fixed', 'ssh']);
    expect(t.memory.messages).toContain('192.0.2.5: fixed: OPEN SESAME');
    await t.daemon.stop();
    expect(t.clock.pending).toBe(0);
  });
});

describe('rotating doors in JSON log lines', () => {
  it('carry the step as a field', async () => {
    const t = setup(door(), { maxAttempts: 100 });
    await t.daemon.start();
    const step = stepAt(t.clock.now(), 30);
    t.send('192.0.2.1', t.sequence(4, step));
    const lines = t.memory
      .file('json')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; step?: number });
    expect(lines.filter((l) => l.event === 'stage').map((l) => l.step)).toEqual([
      step,
      step,
      step,
      step,
    ]);
    expect(lines.find((l) => l.event === 'open')?.step).toBe(step);
  });
});
