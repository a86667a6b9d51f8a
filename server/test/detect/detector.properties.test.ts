// Property tests of the detector (fast-check): independence of sources, eviction
// order, exact timeouts.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TCP_FLAG_BITS, type Knock } from '@knock/shared';
import type { KnockEvent } from '../../src/capture/packet-source.js';
import { Detector, type DetectorAction, type DetectorDoor } from '../../src/detect/detector.js';

const SYN = TCP_FLAG_BITS.syn;
const ACK = TCP_FLAG_BITS.ack;

// A small port pool makes collisions between doors (shared prefixes, repeated ports,
// one door's step being another's first) frequent.
const knockArb: fc.Arbitrary<Knock> = fc.record({
  port: fc.integer({ min: 1, max: 4 }),
  protocol: fc.constantFrom<'tcp' | 'udp'>('tcp', 'tcp', 'udp'),
});

const doorsArb: fc.Arbitrary<DetectorDoor[]> = fc
  .array(
    fc.record({
      sequence: fc.array(knockArb, { minLength: 1, maxLength: 4 }),
      timeoutMs: fc.constantFrom(0, 50, 100, 1000),
      syn: fc.constantFrom<boolean | undefined>(undefined, undefined, true),
    }),
    { minLength: 1, maxLength: 3 },
  )
  .map((doors) =>
    doors.map(({ sequence, timeoutMs, syn }, id) => ({
      id,
      name: `d${id}`,
      sequence,
      timeoutMs,
      tcpFlags: syn === undefined ? {} : { syn },
    })),
  );

interface Step {
  delay: number;
  port: number;
  protocol: 'tcp' | 'udp';
  ack: boolean;
  /** Resend the previous TCP segment of this source (same source port and seq). */
  retransmit: boolean;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  delay: fc.integer({ min: 0, max: 80 }),
  port: fc.integer({ min: 1, max: 5 }), // 5 is in no door
  protocol: fc.constantFrom<'tcp' | 'udp'>('tcp', 'tcp', 'udp'),
  ack: fc.boolean(),
  retransmit: fc.boolean(),
});

/** One source's packets with absolute times. */
function timeline(src: string, steps: readonly Step[], index: number): [number, KnockEvent][] {
  let time = 0;
  let previous: KnockEvent | undefined;
  return steps.map((step, i) => {
    time += step.delay;
    let event: KnockEvent;
    if (step.retransmit && previous !== undefined && previous.protocol === 'tcp') {
      event = { ...previous };
    } else {
      event = {
        time,
        family: src.includes(':') ? 6 : 4,
        src,
        dst: src.includes(':') ? '2001:db8::2' : '192.0.2.2',
        protocol: step.protocol,
        srcPort: 1024 + ((index * 97 + i) % 60_000),
        dstPort: step.port,
        flags: step.protocol === 'udp' ? 0 : step.ack ? ACK : SYN,
        seq: step.protocol === 'udp' ? 0 : (index * 7919 + i * 104_729) >>> 0,
      };
    }
    previous = event;
    return [time, event];
  });
}

const describeAction = (a: DetectorAction) =>
  `${a.kind} ${a.door.id}${a.kind === 'open' ? '' : ` ${a.stage}`} ${a.family}`;

describe('Detector properties', () => {
  it(
    'interleaving any number of sources never changes any single source’s outcome',
    { timeout: 30_000 },
    () => {
      fc.assert(
        fc.property(
          doorsArb,
          fc.array(fc.array(stepArb, { maxLength: 12 }), { minLength: 1, maxLength: 6 }),
          fc.integer(),
          (doors, scripts, salt) => {
            const sources = scripts.map((_, i) =>
              i % 2 === 0 ? `198.51.100.${i + 1}` : `2001:db8::${i + 1}`,
            );
            const lines = scripts.map((steps, i) => timeline(sources[i]!, steps, i));
            const end = 1_000_000;

            const alone = lines.map((line) => {
              const d = new Detector(doors);
              const out: DetectorAction[] = [];
              for (const [time, event] of line) d.feed(event, time, out);
              d.expire(end, out);
              expect(d.size).toBe(0);
              return out.map(describeAction);
            });

            // Merge by time; equal times in an order that depends on `salt`.
            const merged = lines
              .flatMap((line, s) => line.map(([time, event], k) => ({ time, event, s, k })))
              .sort(
                (a, b) =>
                  a.time - b.time ||
                  ((a.s * 31 + salt) & 7) - ((b.s * 31 + salt) & 7) ||
                  a.s - b.s ||
                  a.k - b.k,
              );
            const d = new Detector(doors);
            const out: DetectorAction[] = [];
            for (const { time, event } of merged) d.feed(event, time, out);
            d.expire(end, out);
            expect(d.size).toBe(0);
            sources.forEach((src, i) => {
              expect(out.filter((a) => a.src === src).map(describeAction)).toEqual(alone[i]);
            });
          },
        ),
        { numRuns: 500 },
      );
    },
  );

  it('when the cap is reached, the attempt evicted is always the oldest', () => {
    const door: DetectorDoor = {
      id: 1,
      name: 'ssh',
      sequence: [
        { port: 7000, protocol: 'tcp' },
        { port: 8000, protocol: 'tcp' },
      ],
      timeoutMs: 1e12,
      tcpFlags: {},
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.record({ source: fc.integer({ min: 0, max: 9 }), second: fc.boolean() }), {
          maxLength: 60,
        }),
        (cap, packets) => {
          const d = new Detector([door], { maxAttempts: cap });
          const live: number[] = []; // model: sources with an attempt, oldest first
          let evicted = 0;
          const out: DetectorAction[] = [];
          packets.forEach(({ source, second }, time) => {
            const src = `192.0.2.${10 + source}`;
            const event: KnockEvent = {
              time,
              family: 4,
              src,
              dst: '192.0.2.2',
              protocol: 'tcp',
              srcPort: 2000 + time,
              dstPort: second ? 8000 : 7000,
              flags: SYN,
              seq: time,
            };
            d.feed(event, time, out);
            const at = live.indexOf(source);
            if (second) {
              if (at !== -1) live.splice(at, 1); // opens
            } else {
              if (at !== -1)
                live.splice(at, 1); // wrong knock, then a fresh attempt
              else if (live.length === cap) {
                live.shift();
                evicted++;
              }
              live.push(source);
            }
            expect(d.size).toBe(live.length);
            expect(d.evictions).toBe(evicted);
            for (let s = 0; s < 10; s++) {
              expect(d.stageOf(`192.0.2.${10 + s}`, 1)).toBe(live.includes(s) ? 1 : 0);
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('timeouts fire exactly at first knock + Seq_Timeout, earliest first', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 500 }), door: fc.nat() }), {
          maxLength: 40,
        }),
        (timeouts, starts) => {
          const doors: DetectorDoor[] = timeouts.map((t, id) => ({
            id,
            name: `d${id}`,
            sequence: [
              { port: 100 + id, protocol: 'tcp' },
              { port: 200 + id, protocol: 'tcp' },
            ],
            timeoutMs: [0, 7, 250, 1000][t]!,
            tcpFlags: {},
          }));
          const d = new Detector(doors);
          const expected = new Map<string, number>(); // "src door" → deadline
          let now = 0;
          const out: DetectorAction[] = [];
          starts.forEach(({ gap, door }, i) => {
            now += gap;
            const chosen = doors[door % doors.length]!;
            const src = `203.0.113.${i}`;
            d.feed(
              {
                time: now,
                family: 4,
                src,
                dst: '192.0.2.2',
                protocol: 'tcp',
                srcPort: 3000 + i,
                dstPort: chosen.sequence[0]!.port,
                flags: SYN,
                seq: i,
              },
              now,
              out,
            );
            expected.set(`${src} ${chosen.id}`, now + chosen.timeoutMs);
          });
          // Everything already due when the last packet came was expired by feed().
          const timedOut = (list: DetectorAction[]) =>
            list.filter((a) => a.kind === 'timeout').map((a) => `${a.src} ${a.door.id}`);
          for (const key of timedOut(out)) {
            expect(expected.get(key)).toBeLessThanOrEqual(now);
            expected.delete(key);
          }
          while (expected.size > 0) {
            const deadline = Math.min(...expected.values());
            expect(d.nextDeadline()).toBe(deadline);
            const early: DetectorAction[] = [];
            d.expire(deadline - 0.001, early);
            expect(early).toEqual([]);
            const due: DetectorAction[] = [];
            d.expire(deadline, due);
            const dueKeys = [...expected].filter(([, t]) => t === deadline).map(([k]) => k);
            expect(timedOut(due).sort()).toEqual(dueKeys.sort());
            for (const key of dueKeys) expected.delete(key);
          }
          expect(d.nextDeadline()).toBeUndefined();
          expect(d.size).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
