/**
 * Issue 9 item 21: the detector checks its input at the boundary. A NaN or fractional
 * port, a TCP port 70000, a NaN source key, an infinite time: none may corrupt its state
 * or block an expiry queue. Random events (fast-check), valid and malformed mixed: the
 * malformed ones change nothing, and every attempt still expires.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TCP_FLAG_BITS } from '@knock/shared';
import type { KnockEvent } from '../../src/capture/packet-source.js';
import { Detector, type DetectorAction, type DetectorDoor } from '../../src/detect/detector.js';

const SYN = TCP_FLAG_BITS.syn;
const DOORS: DetectorDoor[] = [
  {
    id: 0,
    name: 'ssh',
    sequence: [
      { port: 1228, protocol: 'tcp' },
      { port: 1227, protocol: 'tcp' },
      { port: 4464, protocol: 'udp' },
    ],
    timeoutMs: 5000,
    tcpFlags: {},
  },
  {
    id: 1,
    name: 'udp',
    sequence: [
      { port: 4464, protocol: 'udp' },
      { port: 1228, protocol: 'tcp' },
    ],
    timeoutMs: 100,
    tcpFlags: {},
  },
];

const event = (over: Partial<KnockEvent> & { srcV4?: number }): KnockEvent => ({
  time: 0,
  family: 4,
  src: '192.0.2.7',
  dst: '192.0.2.1',
  protocol: 'tcp',
  srcPort: 40000,
  dstPort: 1228,
  flags: SYN,
  seq: 1,
  ...over,
});

const feed = (d: Detector, e: KnockEvent, now: number) => {
  const out: DetectorAction[] = [];
  d.feed(e, now, out);
  return out.map((a) => `${a.kind} ${a.src} ${a.door.name}${'stage' in a ? ` ${a.stage}` : ''}`);
};

describe('malformed events are not knocks', () => {
  it.each([
    ['a NaN port', { dstPort: NaN }],
    ['a fractional port', { dstPort: 1228.5 }],
    ['a negative port', { dstPort: -1228 }],
    ['TCP port 70000 (not UDP 4464)', { dstPort: 70000 }],
    ['TCP port 65536 + 4464', { dstPort: 65536 + 4464 }],
    ['an unknown protocol', { protocol: 'sctp' as 'tcp' }],
    ['an unknown family', { family: 5 as 4 }],
    ['a source that is not text', { src: undefined as unknown as string }],
  ])('%s is ignored', (_name, over) => {
    const d = new Detector(DOORS);
    expect(feed(d, event(over), 1000)).toEqual([]);
    expect(d.size).toBe(0);
  });

  it.each([NaN, 1.5, -2, 2 ** 32, Infinity])(
    'a srcV4 key of %s is not trusted: the source text is used',
    (srcV4) => {
      const d = new Detector(DOORS);
      const first = event({ srcV4 });
      expect(feed(d, first, 1000)).toEqual(['stage 192.0.2.7 ssh 1']);
      expect(feed(d, event({ dstPort: 1227, seq: 2 }), 1001)).toEqual(['stage 192.0.2.7 ssh 2']);
      expect(d.stageOf('192.0.2.7', 0)).toBe(2);
      const out: DetectorAction[] = [];
      d.expire(10_000, out);
      expect(out.map((a) => `${a.kind} ${a.src}`)).toEqual(['timeout 192.0.2.7']);
      expect(d.size).toBe(0);
    },
  );

  it('a time that is not finite is refused, and the table is unchanged', () => {
    const d = new Detector(DOORS);
    feed(d, event({}), 1000);
    for (const now of [Infinity, -Infinity, NaN])
      expect(() => feed(d, event({ src: '192.0.2.8' }), now)).toThrow(RangeError);
    expect(() => d.expire(NaN, [])).toThrow(RangeError);
    expect(d.size).toBe(1);
    expect(d.nextDeadline()).toBe(6000);
  });

  it('doors with a timeout or port that is not a number are refused', () => {
    const door = DOORS[0]!;
    for (const bad of [
      { ...door, timeoutMs: NaN },
      { ...door, timeoutMs: Infinity },
      { ...door, timeoutMs: -1 },
      { ...door, sequence: [{ port: 1.5, protocol: 'tcp' as const }] },
      { ...door, sequence: [{ port: 70000, protocol: 'tcp' as const }] },
    ])
      expect(() => new Detector([bad])).toThrow(RangeError);
  });
});

// --- random events ------------------------------------------------------------------------

const goodArb: fc.Arbitrary<KnockEvent> = fc
  .record({
    src: fc.constantFrom('192.0.2.7', '192.0.2.8', '2001:db8::7'),
    protocol: fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'),
    port: fc.constantFrom(1228, 1227, 4464, 9),
    seq: fc.nat(),
  })
  .map(({ src, protocol, port, seq }) =>
    event({
      src,
      family: src.includes(':') ? 6 : 4,
      dst: src.includes(':') ? '2001:db8::1' : '192.0.2.1',
      protocol,
      dstPort: port,
      flags: protocol === 'tcp' ? SYN : 0,
      seq: protocol === 'tcp' ? seq : 0,
    }),
  );

const junk = fc.constantFrom(
  NaN,
  Infinity,
  -Infinity,
  -1,
  0.5,
  1228.5,
  70000,
  65536 + 4464,
  2 ** 32,
);
const badArb: fc.Arbitrary<KnockEvent> = fc
  .tuple(goodArb, fc.constantFrom('dstPort', 'protocol', 'family', 'src'), junk)
  .map(([e, field, value]) => ({ ...e, [field]: field === 'src' ? value : value }) as KnockEvent);

const opArb = fc.oneof(
  fc.record({ kind: fc.constant('good' as const), event: goodArb, dt: fc.nat({ max: 3000 }) }),
  fc.record({ kind: fc.constant('bad' as const), event: badArb, dt: fc.nat({ max: 3000 }) }),
  fc.record({ kind: fc.constant('expire' as const), dt: fc.nat({ max: 3000 }) }),
);

describe('random events, malformed ones mixed in (fast-check)', () => {
  it('malformed events change nothing, and every attempt expires', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const mixed = new Detector(DOORS);
        const clean = new Detector(DOORS);
        let now = 1_000_000;
        for (const op of ops) {
          now += op.dt;
          const a: DetectorAction[] = [];
          const b: DetectorAction[] = [];
          if (op.kind === 'expire') {
            mixed.expire(now, a);
            clean.expire(now, b);
          } else if (op.kind === 'bad') {
            mixed.feed(op.event, now, a);
            clean.expire(now, b); // what the bad packet's feed() may do: expire due attempts
          } else {
            mixed.feed(op.event, now, a);
            clean.feed(op.event, now, b);
          }
          expect(a).toEqual(b);
          expect(mixed.size).toBe(clean.size);
          const deadline = mixed.nextDeadline();
          if (deadline !== undefined) expect(Number.isFinite(deadline)).toBe(true);
        }
        const rest: DetectorAction[] = [];
        mixed.expire(now + 5001, rest);
        expect(rest.every((r) => r.kind === 'timeout')).toBe(true);
        expect(mixed.size).toBe(0);
        expect(mixed.nextDeadline()).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});
