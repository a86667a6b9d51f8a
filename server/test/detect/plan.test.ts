import { describe, expect, it } from 'vitest';
import { parseSequence, TCP_FLAG_BITS, type TcpFlagRule } from '@knock/shared';
import {
  accepts,
  carryOver,
  checkDoor,
  indexKeys,
  keyOf,
  NONE,
  planDoor,
  type DetectorDoor,
} from '../../src/detect/plan.js';

function door(
  name: string,
  sequence: string,
  extra: { tcpFlags?: TcpFlagRule; target?: string; timeoutMs?: number } = {},
): DetectorDoor {
  const { knocks, issues } = parseSequence(sequence);
  expect(issues).toEqual([]);
  return { id: 0, name, sequence: knocks, timeoutMs: 5000, tcpFlags: {}, ...extra };
}

const plan = (d: DetectorDoor) => ({ ...planDoor(d), queue: 0 });
const { syn, ack, fin } = TCP_FLAG_BITS;

describe('the plan of a door', () => {
  it('turns knocks into keys (UDP above the TCP ports) and flags into two masks', () => {
    const p = planDoor(door('ssh', '7000,8000:udp,9000', { tcpFlags: { syn: true, ack: false } }));
    expect(Array.from(p.keys)).toEqual([7000, 65536 + 8000, 9000]);
    expect(keyOf('udp', 8000)).toBe(65536 + 8000);
    expect([p.setMask, p.clearMask]).toEqual([syn, ack]);
  });

  it('refuses what the detector cannot track, naming the door', () => {
    const long = door('long', '1');
    long.sequence = Array.from({ length: 256 }, () => ({ port: 1, protocol: 'tcp' as const }));
    expect(() => checkDoor(long)).toThrow('door long: 256 knocks (at most 255)');
    expect(() => checkDoor(door('t', '1', { timeoutMs: NaN }))).toThrow('door t: timeout NaN ms');
    const bad = door('p', '1');
    bad.sequence = [{ port: 70000, protocol: 'tcp' }];
    expect(() => checkDoor(bad)).toThrow('door p: 70000:tcp is not a port');
    expect(() => checkDoor(door('ok', '1,65535:udp'))).not.toThrow();
  });
});

describe('accepts', () => {
  it('takes the target in any spelling, else the local addresses, else any destination', () => {
    const target = plan(door('t', '1', { target: '2001:DB8:0::2' }));
    expect(accepts(target, undefined, '2001:db8::2', false, 0)).toBe(true);
    expect(accepts(target, new Set(['2001:db8::2']), '2001:db8::3', false, 0)).toBe(false);
    const local = plan(door('l', '1'));
    expect(accepts(local, new Set(['192.0.2.2']), '192.0.2.2', false, 0)).toBe(true);
    expect(accepts(local, new Set(['192.0.2.2']), '192.0.2.3', false, 0)).toBe(false);
    expect(accepts(local, undefined, '192.0.2.3', false, 0)).toBe(true);
  });

  it('checks TCP flags on TCP packets only', () => {
    const p = plan(door('f', '1', { tcpFlags: { syn: true, ack: false } }));
    expect(accepts(p, undefined, 'x', true, syn)).toBe(true);
    expect(accepts(p, undefined, 'x', true, syn | fin)).toBe(true);
    expect(accepts(p, undefined, 'x', true, syn | ack)).toBe(false);
    expect(accepts(p, undefined, 'x', true, fin)).toBe(false);
    expect(accepts(p, undefined, 'x', false, 0)).toBe(true);
  });
});

describe('carryOver', () => {
  it('maps each old door to the first unused new door with the same name, steps, flags and target', () => {
    const old = [door('a', '1,2'), door('b', '3'), door('a', '1,2'), door('c', '4')].map(planDoor);
    const fresh = [
      door('c', '4', { tcpFlags: { syn: true } }),
      door('a', '1,2', { timeoutMs: 9000 }),
      door('b', '3'),
      door('a', '1,2'),
    ].map(planDoor);
    expect(Array.from(carryOver(old, fresh))).toEqual([1, 2, 3, NONE]);
  });

  it('sees a target spelt differently as the same target', () => {
    const old = [planDoor(door('t', '1', { target: '2001:db8:0::2' }))];
    const fresh = [planDoor(door('t', '1', { target: '2001:db8::2' }))];
    expect(Array.from(carryOver(old, fresh))).toEqual([0]);
  });
});

describe('indexKeys', () => {
  it('lists per key the doors containing it (once each) and those starting with it', () => {
    const index = indexKeys(
      [door('a', '1,2,1'), door('b', '2,1'), door('c', '3:udp')].map(planDoor),
    );
    const doorsOf = (key: number) => {
      const at = index.keyIndex[key]!;
      return at === 0
        ? undefined
        : [Array.from(index.containing[at - 1]!), Array.from(index.starting[at - 1]!)];
    };
    expect(doorsOf(1)).toEqual([[0, 1], [0]]);
    expect(doorsOf(2)).toEqual([[0, 1], [1]]);
    expect(doorsOf(keyOf('udp', 3))).toEqual([[2], [2]]);
    expect(doorsOf(3)).toBeUndefined();
  });
});
