import { describe, expect, it } from 'vitest';
import { parseSequence, TCP_FLAG_BITS, type TcpFlagRule } from '@knock/shared';
import type { KnockEvent } from '../../src/capture/packet-source.js';
import { Detector, type DetectorAction, type DetectorDoor } from '../../src/detect/detector.js';

const SYN = TCP_FLAG_BITS.syn;
const ACK = TCP_FLAG_BITS.ack;
const SERVER = '192.0.2.2';

function door(
  id: number,
  name: string,
  sequence: string,
  extra: { timeoutMs?: number; tcpFlags?: TcpFlagRule; target?: string } = {},
): DetectorDoor {
  const { knocks, issues } = parseSequence(sequence);
  expect(issues).toEqual([]);
  const d: DetectorDoor = {
    id,
    name,
    sequence: knocks,
    timeoutMs: extra.timeoutMs ?? 25_000,
    tcpFlags: extra.tcpFlags ?? {},
  };
  if (extra.target !== undefined) d.target = extra.target;
  return d;
}

let nextSourcePort = 40_000;
let nextSeq = 1_000;

/** A knock packet; `port` may be `7000` or `'7000:udp'`. Each call is a fresh segment. */
function knock(
  src: string,
  port: number | string,
  extra: Partial<Omit<KnockEvent, 'src' | 'dstPort' | 'protocol'>> = {},
): KnockEvent {
  const [p, proto] = String(port).split(':');
  const udp = proto === 'udp';
  return {
    time: 0,
    family: src.includes(':') ? 6 : 4,
    src,
    dst: SERVER,
    protocol: udp ? 'udp' : 'tcp',
    srcPort: nextSourcePort++,
    dstPort: Number(p),
    flags: udp ? 0 : SYN,
    seq: udp ? 0 : nextSeq++,
    ...extra,
  };
}

/** knockd's log texts (plus `reset` for a silent wrong-knock reset). */
function line(a: DetectorAction): string {
  switch (a.kind) {
    case 'stage':
      return `${a.src}: ${a.door.name}: Stage ${a.stage}`;
    case 'open':
      return `${a.src}: ${a.door.name}: OPEN SESAME`;
    case 'timeout':
      return `${a.src}: ${a.door.name}: sequence timeout (stage ${a.stage})`;
    case 'reset':
      return `${a.src}: ${a.door.name}: reset (stage ${a.stage})`;
  }
}

/** Feeds [time, event] pairs; returns the log lines. */
function run(detector: Detector, script: readonly (readonly [number, KnockEvent])[]): string[] {
  const out: DetectorAction[] = [];
  for (const [time, event] of script) detector.feed(event, time, out);
  return out.map(line);
}

const opens = (lines: string[]) => lines.filter((l) => l.endsWith('OPEN SESAME'));

const A = '198.51.100.1';
const B = '198.51.100.2';

describe('Detector: sequences', () => {
  it('opens a multi-port door with knockd log lines, stage by stage', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000,9000')]);
    expect(
      run(d, [
        [0, knock(A, 7000)],
        [10, knock(A, 8000)],
        [20, knock(A, 9000)],
      ]),
    ).toEqual([
      `${A}: ssh: Stage 1`,
      `${A}: ssh: Stage 2`,
      `${A}: ssh: Stage 3`,
      `${A}: ssh: OPEN SESAME`,
    ]);
    expect(d.size).toBe(0);
  });

  it('opens a one-port door on its first packet, every time, keeping no state', () => {
    const d = new Detector([door(1, 'one', '1234')]);
    expect(
      run(d, [
        [0, knock(A, 1234)],
        [1, knock(A, 1234)],
      ]),
    ).toEqual([
      `${A}: one: Stage 1`,
      `${A}: one: OPEN SESAME`,
      `${A}: one: Stage 1`,
      `${A}: one: OPEN SESAME`,
    ]);
    expect(d.size).toBe(0);
  });

  it('mixes UDP and TCP steps; the protocol is part of the step', () => {
    const d = new Detector([door(1, 'mixed', '7000:udp,8000,9000:udp')]);
    const lines = run(d, [
      [0, knock(A, '7000:udp')],
      [1, knock(A, 8000)],
      [2, knock(A, '9000:udp')],
    ]);
    expect(opens(lines)).toEqual([`${A}: mixed: OPEN SESAME`]);
    // Same port, other protocol: a wrong knock (which here restarts the door).
    const same = new Detector([door(1, 'same', '8000:udp,8000')]);
    expect(run(same, [[0, knock(B, 8000)]])).toEqual([]);
    expect(
      run(same, [
        [1, knock(B, '8000:udp')],
        [2, knock(B, '8000:udp')],
        [3, knock(B, 8000)],
      ]),
    ).toEqual([
      `${B}: same: Stage 1`,
      `${B}: same: reset (stage 1)`,
      `${B}: same: Stage 1`,
      `${B}: same: Stage 2`,
      `${B}: same: OPEN SESAME`,
    ]);
  });

  it('advances one stage per packet on repeated ports (1226,1226)', () => {
    const d = new Detector([door(1, 'ban', '1226,1226')]);
    expect(
      run(d, [
        [0, knock(A, 1226)],
        [1, knock(A, 1226)],
      ]),
    ).toEqual([`${A}: ban: Stage 1`, `${A}: ban: Stage 2`, `${A}: ban: OPEN SESAME`]);
  });

  it('reports IPv6 knockers with family 6', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000')]);
    const out: DetectorAction[] = [];
    d.feed(knock('2001:db8::1', 7000, { dst: '2001:db8::2' }), 0, out);
    d.feed(knock('2001:db8::1', 8000, { dst: '2001:db8::2' }), 1, out);
    expect(out.map((a) => [a.kind, a.src, a.family])).toEqual([
      ['stage', '2001:db8::1', 6],
      ['stage', '2001:db8::1', 6],
      ['open', '2001:db8::1', 6],
    ]);
  });
});

describe('Detector: wrong knocks', () => {
  it('ignores ports that are in no door, even mid-sequence', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000,9000')]);
    const lines = run(d, [
      [0, knock(A, 7000)],
      [1, knock(A, 22)],
      [2, knock(A, 8000)],
      [3, knock(A, '9000:udp')],
      [4, knock(A, 9000)],
    ]);
    expect(opens(lines)).toEqual([`${A}: ssh: OPEN SESAME`]);
  });

  it('ends the attempt on a knock for another step of the same door', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000,9000')]);
    expect(
      run(d, [
        [0, knock(A, 7000)],
        [1, knock(A, 9000)],
        [2, knock(A, 8000)],
      ]),
    ).toEqual([`${A}: ssh: Stage 1`, `${A}: ssh: reset (stage 1)`]);
    expect(d.size).toBe(0);
  });

  it("ends the attempt on a knock for another door's port, and that door still starts", () => {
    const d = new Detector([door(1, 'ssh', '7000,8000,9000'), door(2, 'web', '5555')]);
    const lines = run(d, [
      [0, knock(A, 7000)],
      [1, knock(A, 5555)],
      [2, knock(A, 8000)],
      [3, knock(A, 9000)],
    ]);
    expect(lines).toEqual([
      `${A}: ssh: Stage 1`,
      `${A}: ssh: reset (stage 1)`,
      `${A}: web: Stage 1`,
      `${A}: web: OPEN SESAME`,
    ]);
  });

  const restartScript = () =>
    [
      [0, knock(A, 7000)],
      [1, knock(A, 8000)],
      [2, knock(A, 7000)], // the knocker starts over
      [3, knock(A, 8000)],
      [4, knock(A, 9000)],
    ] as const;

  it('a wrong knock that is the first step starts a fresh attempt (our default)', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000,9000')]);
    expect(run(d, restartScript())).toEqual([
      `${A}: ssh: Stage 1`,
      `${A}: ssh: Stage 2`,
      `${A}: ssh: reset (stage 2)`,
      `${A}: ssh: Stage 1`,
      `${A}: ssh: Stage 2`,
      `${A}: ssh: Stage 3`,
      `${A}: ssh: OPEN SESAME`,
    ]);
  });

  it("knockd's choice (restartOnWrongKnock: false): the wrong knock only kills the attempt", () => {
    const d = new Detector([door(1, 'ssh', '7000,8000,9000')], { restartOnWrongKnock: false });
    const lines = run(d, restartScript());
    expect(lines).toEqual([
      `${A}: ssh: Stage 1`,
      `${A}: ssh: Stage 2`,
      `${A}: ssh: reset (stage 2)`,
    ]);
    // The next first knock starts afresh, as in knockd.
    expect(
      opens(
        run(d, [
          [5, knock(A, 7000)],
          [6, knock(A, 8000)],
          [7, knock(A, 9000)],
        ]),
      ),
    ).toHaveLength(1);
  });
});

describe('Detector: TCP flags', () => {
  const flagged = () =>
    new Detector([door(1, 'syn', '7000,8000,9000', { tcpFlags: { syn: true, ack: false } })]);

  it('ignores a TCP packet that fails the flags: neither a step nor a wrong knock', () => {
    const d = flagged();
    const lines = run(d, [
      [0, knock(A, 7000)],
      [1, knock(A, 8000, { flags: SYN | ACK })],
      [2, knock(A, 9000, { flags: ACK })],
      [3, knock(A, 8000)],
      [4, knock(A, 9000)],
    ]);
    expect(lines).toEqual([
      `${A}: syn: Stage 1`,
      `${A}: syn: Stage 2`,
      `${A}: syn: Stage 3`,
      `${A}: syn: OPEN SESAME`,
    ]);
  });

  it('never starts a door on a packet failing its flags', () => {
    const d = flagged();
    expect(run(d, [[0, knock(A, 7000, { flags: ACK })]])).toEqual([]);
    expect(d.size).toBe(0);
  });

  it('never applies TCPFlags to UDP steps', () => {
    const d = new Detector([door(1, 'mixed', '7000:udp,8000', { tcpFlags: { syn: true } })]);
    expect(
      opens(
        run(d, [
          [0, knock(A, '7000:udp')],
          [1, knock(A, 8000)],
        ]),
      ),
    ).toHaveLength(1);
  });

  it("ignores, for a door, a packet that fails its flags even when it is another door's knock", () => {
    const d = new Detector([
      door(1, 'syn', '7000,8000', { tcpFlags: { syn: true } }),
      door(2, 'any', '8000,9999'),
    ]);
    const lines = run(d, [
      [0, knock(A, 7000)],
      [1, knock(A, 8000, { flags: ACK })], // a knock for "any" only
      [2, knock(A, 8000)], // "syn" step 2; a wrong knock for "any", which restarts there
    ]);
    expect(lines).toEqual([
      `${A}: syn: Stage 1`,
      `${A}: any: Stage 1`,
      `${A}: syn: Stage 2`,
      `${A}: syn: OPEN SESAME`,
      `${A}: any: reset (stage 1)`,
      `${A}: any: Stage 1`,
    ]);
  });

  it('does not see a packet that passes no door flags at all', () => {
    const d = new Detector([
      door(1, 'ssh', '7000,8000', { tcpFlags: { syn: true } }),
      door(2, 'other', '8000', { tcpFlags: { syn: true } }),
    ]);
    expect(
      run(d, [
        [0, knock(A, 7000)],
        [1, knock(A, 8000, { flags: ACK })],
      ]),
    ).toEqual([`${A}: ssh: Stage 1`]);
    expect(d.stageOf(A, 1)).toBe(1);
  });
});

describe('Detector: retransmissions', () => {
  it('ignores a retransmitted SYN of the step just taken', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000,9000')]);
    const first = knock(A, 7000);
    const lines = run(d, [
      [0, first],
      [1000, { ...first }], // same source port and sequence number
      [1001, knock(A, 8000)],
      [1002, knock(A, 9000)],
    ]);
    expect(opens(lines)).toHaveLength(1);
    expect(lines.some((l) => l.includes('reset'))).toBe(false);
  });

  it('counts a new SYN to the same port (new source port) as a wrong knock', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000,9000')], { restartOnWrongKnock: false });
    expect(
      run(d, [
        [0, knock(A, 7000)],
        [1, knock(A, 7000)],
      ]),
    ).toEqual([`${A}: ssh: Stage 1`, `${A}: ssh: reset (stage 1)`]);
  });

  it('does not let a retransmission take the second step of a repeated port', () => {
    const d = new Detector([door(1, 'ban', '1226,1226')]);
    const first = knock(A, 1226);
    expect(
      run(d, [
        [0, first],
        [1, { ...first }],
      ]),
    ).toEqual([`${A}: ban: Stage 1`]);
    expect(opens(run(d, [[2, knock(A, 1226)]]))).toHaveLength(1);
  });
});

describe('Detector: independence (knockd §4.1 bug 1 fixed)', () => {
  it("one source's completion leaves another source's attempt alone", () => {
    const d = new Detector([door(1, 'ssh', '7000,8000,9000')]);
    const lines = run(d, [
      [0, knock(A, 7000)],
      [1, knock(B, 7000)],
      [2, knock(A, 8000)],
      [3, knock(A, 9000)],
      [4, knock(B, 8000)],
      [5, knock(B, 9000)],
    ]);
    expect(opens(lines)).toEqual([`${A}: ssh: OPEN SESAME`, `${B}: ssh: OPEN SESAME`]);
  });

  it('doors sharing a prefix both open, whatever their order in the config', () => {
    for (const doors of [
      [door(1, 'P', '1001,1002'), door(2, 'Q', '1001,1002,1003')],
      [door(2, 'Q', '1001,1002,1003'), door(1, 'P', '1001,1002')],
    ]) {
      const d = new Detector(doors);
      const lines = run(d, [
        [0, knock(A, 1001)],
        [1, knock(A, 1002)],
        [2, knock(A, 1003)],
      ]);
      expect(opens(lines).sort()).toEqual([`${A}: P: OPEN SESAME`, `${A}: Q: OPEN SESAME`]);
    }
  });

  it("a door whose first port is another door's later port starts while the other is in progress", () => {
    const d = new Detector([door(1, 'A', '7000,8000'), door(2, 'B', '8000,9000')]);
    const lines = run(d, [
      [0, knock(A, 7000)],
      [1, knock(A, 8000)],
      [2, knock(A, 9000)],
    ]);
    expect(lines).toEqual([
      `${A}: A: Stage 1`,
      `${A}: A: Stage 2`,
      `${A}: A: OPEN SESAME`,
      `${A}: B: Stage 1`,
      `${A}: B: Stage 2`,
      `${A}: B: OPEN SESAME`,
    ]);
  });

  it("one source's timeout leaves another source's attempt alone", () => {
    const d = new Detector([door(1, 'ssh', '7000,8000', { timeoutMs: 100 })]);
    const lines = run(d, [
      [0, knock(A, 7000)],
      [50, knock(B, 7000)],
      [120, knock(B, 8000)],
    ]);
    expect(lines).toEqual([
      `${A}: ssh: Stage 1`,
      `${B}: ssh: Stage 1`,
      `${A}: ssh: sequence timeout (stage 1)`,
      `${B}: ssh: Stage 2`,
      `${B}: ssh: OPEN SESAME`,
    ]);
  });
});

describe('Detector: timeouts', () => {
  it('measures Seq_Timeout from the first knock, not between knocks', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000,9000', { timeoutMs: 3000 })]);
    const lines = run(d, [
      [0, knock(A, 7000)],
      [2000, knock(A, 8000)],
      [4000, knock(A, 9000)],
    ]);
    expect(lines).toEqual([
      `${A}: ssh: Stage 1`,
      `${A}: ssh: Stage 2`,
      `${A}: ssh: sequence timeout (stage 2)`,
    ]);
  });

  it('is precise to the millisecond (knockd rounds to whole seconds)', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000', { timeoutMs: 1000 })]);
    // knockd: 81 ms apart across a second boundary times out with Seq_Timeout=1.
    expect(
      opens(
        run(d, [
          [999_950, knock(A, 7000)],
          [1_000_031, knock(A, 8000)],
        ]),
      ),
    ).toHaveLength(1);
    expect(
      opens(
        run(d, [
          [0, knock(B, 7000)],
          [999, knock(B, 8000)],
        ]),
      ),
    ).toHaveLength(1);
    expect(
      run(d, [
        [2000, knock(B, 7000)],
        [3000, knock(B, 8000)],
      ]),
    ).toEqual([`${B}: ssh: Stage 1`, `${B}: ssh: sequence timeout (stage 1)`]);
  });

  it('expires through expire(now) without another packet, exactly at start + timeout', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000', { timeoutMs: 3000 })]);
    run(d, [[500, knock(A, 7000)]]);
    expect(d.nextDeadline()).toBe(3500);
    const out: DetectorAction[] = [];
    d.expire(3499.9, out);
    expect(out).toEqual([]);
    d.expire(3500, out);
    expect(out.map(line)).toEqual([`${A}: ssh: sequence timeout (stage 1)`]);
    expect(d.size).toBe(0);
    expect(d.nextDeadline()).toBeUndefined();
  });

  it('lets the packet that finds its attempt expired start a new one', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000', { timeoutMs: 100 })]);
    const lines = run(d, [
      [0, knock(A, 7000)],
      [100, knock(A, 7000)],
      [150, knock(A, 8000)],
    ]);
    expect(lines).toEqual([
      `${A}: ssh: Stage 1`,
      `${A}: ssh: sequence timeout (stage 1)`,
      `${A}: ssh: Stage 1`,
      `${A}: ssh: Stage 2`,
      `${A}: ssh: OPEN SESAME`,
    ]);
  });

  it('with Seq_Timeout 0 opens only one-port doors', () => {
    const d = new Detector([
      door(1, 'two', '7000,8000', { timeoutMs: 0 }),
      door(2, 'one', '9000', { timeoutMs: 0 }),
    ]);
    expect(
      opens(
        run(d, [
          [0, knock(A, 7000)],
          [0, knock(A, 8000)],
          [0, knock(A, 9000)],
        ]),
      ),
    ).toEqual([`${A}: one: OPEN SESAME`]);
  });

  it('survives a clock that steps backwards: nothing is lost, late knocks still time out', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000', { timeoutMs: 100 })]);
    run(d, [
      [10_000, knock(A, 7000)],
      [500, knock(B, 7000)],
    ]);
    expect(run(d, [[650, knock(B, 8000)]])).toEqual([`${B}: ssh: sequence timeout (stage 1)`]);
    const out: DetectorAction[] = [];
    d.expire(10_100, out);
    expect(out.map(line)).toEqual([`${A}: ssh: sequence timeout (stage 1)`]);
    expect(d.size).toBe(0);
  });

  it('keeps one deadline order per timeout value', () => {
    const d = new Detector([
      door(1, 'slow', '7000,8000', { timeoutMs: 5000 }),
      door(2, 'fast', '6000,8000', { timeoutMs: 1000 }),
    ]);
    run(d, [
      [0, knock(A, 7000)],
      [10, knock(B, 6000)],
    ]);
    expect(d.nextDeadline()).toBe(1010);
    const out: DetectorAction[] = [];
    d.expire(1010, out);
    expect(out.map(line)).toEqual([`${B}: fast: sequence timeout (stage 1)`]);
    expect(d.nextDeadline()).toBe(5000);
  });
});

describe('Detector: destinations', () => {
  it('matches doors without Target only on local addresses, once they are known', () => {
    const d = new Detector([door(1, 'ssh', '7000')], {
      localAddresses: ['192.0.2.2', '2001:db8::2'],
    });
    expect(run(d, [[0, knock(A, 7000, { dst: '192.0.2.99' })]])).toEqual([]);
    expect(opens(run(d, [[1, knock(A, 7000)]]))).toHaveLength(1);
    d.setLocalAddresses(['192.0.2.99']);
    expect(opens(run(d, [[2, knock(A, 7000, { dst: '192.0.2.99' })]]))).toHaveLength(1);
    expect(run(d, [[3, knock(A, 7000)]])).toEqual([]);
  });

  it('accepts any destination until local addresses are given', () => {
    const d = new Detector([door(1, 'ssh', '7000')]);
    expect(opens(run(d, [[0, knock(A, 7000, { dst: '203.0.113.9' })]]))).toHaveLength(1);
  });

  it('matches a Target door only on its target, in any IPv6 spelling', () => {
    const d = new Detector(
      [door(1, 'vip', '7000,8000', { target: '2001:DB8:0:0::10' }), door(2, 'host', '7000,8000')],
      { localAddresses: ['2001:db8::2'] },
    );
    const v6 = '2001:db8::1';
    const lines = run(d, [
      [0, knock(v6, 7000, { dst: '2001:db8::10' })],
      [1, knock(v6, 8000, { dst: '2001:db8::2' })], // not the target: the vip door does not see it
      [2, knock(v6, 8000, { dst: '2001:db8::10' })],
    ]);
    expect(lines).toEqual([
      `${v6}: vip: Stage 1`,
      `${v6}: vip: Stage 2`,
      `${v6}: vip: OPEN SESAME`,
    ]);
  });
});

describe('Detector: reload', () => {
  it('keeps attempts of unchanged doors (with the new timeout) and drops the others', () => {
    const ssh = door(1, 'ssh', '7000,8000,9000', { timeoutMs: 1000 });
    const web = door(2, 'web', '7000,6000');
    const d = new Detector([ssh, web]);
    run(d, [[0, knock(A, 7000)]]);
    expect(d.size).toBe(2);
    const ssh2 = { ...ssh, id: 10, timeoutMs: 5000 };
    const web2 = door(11, 'web', '7000,6001');
    d.setDoors([web2, ssh2]);
    expect(d.size).toBe(1);
    expect(d.stageOf(A, 10)).toBe(1);
    expect(d.stageOf(A, 11)).toBe(0);
    expect(d.nextDeadline()).toBe(5000);
    const out: DetectorAction[] = [];
    d.feed(knock(A, 8000), 3000, out);
    d.feed(knock(A, 9000), 4000, out);
    expect(out.map((a) => [a.kind, a.door.id, a.kind === 'open' ? 0 : a.stage])).toEqual([
      ['stage', 10, 2],
      ['stage', 10, 3],
      ['open', 10, 0],
    ]);
  });

  it('drops an attempt whose door changed its flags or target', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000')]);
    run(d, [[0, knock(A, 7000)]]);
    d.setDoors([door(1, 'ssh', '7000,8000', { tcpFlags: { syn: true } })]);
    expect(d.size).toBe(0);
    run(d, [[1, knock(A, 7000)]]);
    d.setDoors([door(1, 'ssh', '7000,8000', { tcpFlags: { syn: true }, target: '192.0.2.2' })]);
    expect(d.size).toBe(0);
  });
});

describe('Detector: capacity', () => {
  it('evicts the oldest attempt when full', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000')], { maxAttempts: 2 });
    run(d, [
      [0, knock('192.0.2.10', 7000)],
      [1, knock('192.0.2.11', 7000)],
      [2, knock('192.0.2.12', 7000)],
    ]);
    expect(d.size).toBe(2);
    expect(d.evictions).toBe(1);
    expect(d.stageOf('192.0.2.10', 1)).toBe(0);
    expect(
      opens(
        run(d, [
          [3, knock('192.0.2.11', 8000)],
          [4, knock('192.0.2.12', 8000)],
        ]),
      ),
    ).toHaveLength(2);
  });

  it('frees state when attempts end, and still works after the table grows and shrinks', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000,9000', { timeoutMs: 1000 })]);
    const out: DetectorAction[] = [];
    const src = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < 20_000; i++) d.feed(knock(src(i), 7000), i < 19_990 ? 0 : 500, out);
    expect(d.size).toBe(20_000);
    expect(d.capacity).toBeGreaterThanOrEqual(20_000);
    // Half of the late ones take step 2 before most attempts expire.
    for (let i = 19_990; i < 19_995; i++) d.feed(knock(src(i), 8000), 600, out);
    out.length = 0;
    d.expire(1000, out);
    expect(out).toHaveLength(19_990);
    expect(d.size).toBe(10);
    for (let i = 19_990; i < 20_000; i++) {
      expect(d.stageOf(src(i), 1)).toBe(i < 19_995 ? 2 : 1);
    }
    out.length = 0;
    for (let i = 19_990; i < 20_000; i++) d.feed(knock(src(i), i < 19_995 ? 9000 : 8000), 700, out);
    expect(out.filter((a) => a.kind === 'open')).toHaveLength(5);
    d.expire(1500, out);
    expect(d.size).toBe(0);
    expect(d.capacity).toBe(1024);
  });

  it('keeps IPv6 and IPv4 sources apart through growth and compaction', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000', { timeoutMs: 1000 })]);
    const out: DetectorAction[] = [];
    const v6 = (i: number) => `2001:db8::${i.toString(16)}`;
    const v4 = (i: number) => `10.0.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < 3000; i++) {
      d.feed(knock(v6(i), 7000, { dst: '2001:db8::2' }), i < 2990 ? 0 : 500, out);
      d.feed(knock(v4(i), 7000), i < 2990 ? 0 : 500, out);
    }
    expect(d.size).toBe(6000);
    out.length = 0;
    d.expire(1000, out);
    expect(out.filter((a) => a.family === 6)).toHaveLength(2990);
    expect(out.filter((a) => a.family === 4)).toHaveLength(2990);
    expect(new Set(out.map((a) => a.src)).size).toBe(5980);
    out.length = 0;
    for (let i = 2990; i < 3000; i++) {
      d.feed(knock(v6(i), 8000, { dst: '2001:db8::2' }), 600, out);
      d.feed(knock(v4(i), 8000), 600, out);
    }
    expect(out.filter((a) => a.kind === 'open').map((a) => a.src)).toEqual(
      Array.from({ length: 10 }, (_, k) => [v6(2990 + k), v4(2990 + k)]).flat(),
    );
    expect(d.size).toBe(0);
  });

  it('tracks a source whose text is not a plain address by its text', () => {
    const d = new Detector([door(1, 'ssh', '7000,8000')]);
    const odd = '192.0.2.010'; // not canonical: kept apart from 192.0.2.10
    run(d, [[0, knock(odd, 7000)]]);
    expect(d.stageOf(odd, 1)).toBe(1);
    expect(d.stageOf('192.0.2.10', 1)).toBe(0);
    expect(opens(run(d, [[1, knock(odd, 8000)]]))).toEqual([`${odd}: ssh: OPEN SESAME`]);
  });
});
