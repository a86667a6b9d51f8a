/**
 * Rotating sequences: a door's sequence derived from a shared secret and the clock, like an
 * authenticator app's code, so that a sniffed knock cannot be replayed later. Pure: one
 * implementation for the daemon and every client. The derivation, in full (the README's
 * "Rotating sequences: the derivation" repeats it for other implementations):
 *
 *   T      = floor(unix_seconds / step)                     (step: default 30 s)
 *   M(i)   = "knock-rotating-v1" 0x00 label 0x00 F T64 i8    (label UTF-8; F = 0x04 or 0x06,
 *                                                             the address family; T64 = T as
 *                                                             an unsigned 64-bit big-endian
 *                                                             integer; i8 = block number i)
 *   B(i)   = HMAC-SHA-256(secret, M(i))                      (i = 0, 1, 2, …)
 *   stream = B(0) ‖ B(1) ‖ … read as unsigned 32-bit big-endian words x
 *   ports  : R = high − low + 1, zone = 2^32 − (2^32 mod R); for each word x in order:
 *            skip x ≥ zone (no modulo bias), p = low + (x mod R), skip p if already drawn,
 *            else append p; stop when `length` ports are drawn.
 *   protos : "tcp" or "udp": every knock uses it; "mixed": the next word w of the stream
 *            after the last port, knock k (0-based) is UDP when bit k of w is 1.
 */
import { createHmac } from 'node:crypto';
import { base32nopad } from '@scure/base';
import type { Knock, Protocol } from './sequence.js';

export type RotatingProtocols = Protocol | 'mixed';

/** What a rotating door and a client profile share (the secret decoded). */
export interface RotatingSpec {
  secret: Uint8Array;
  /** The door's name in knockd.conf (`[ssh]` → "ssh"): two doors with one secret differ. */
  label: string;
  length: number;
  /** Seconds per step. */
  step: number;
  low: number;
  high: number;
  protocols: RotatingProtocols;
}

export const ROTATING_DEFAULTS = {
  length: 4,
  step: 30,
  low: 10000,
  high: 65000,
  protocols: 'tcp',
  /** Steps accepted either side of the daemon's own: the previous, current and next. */
  skew: 1,
} as const;

/** 128 bits, as RFC 4226 asks of an HOTP secret (160 recommended). */
export const MIN_SECRET_BYTES = 16;
export const ROTATING_LENGTH = { min: 2, max: 32 } as const;
export const ROTATING_STEP = { min: 1, max: 86_400 } as const;
export const ROTATING_SKEW = { min: 0, max: 10 } as const;

const CONTEXT = 'knock-rotating-v1';

/** The step number at a time in milliseconds since the epoch. */
export const stepAt = (unixMs: number, step: number): number => Math.floor(unixMs / 1000 / step);

/** When step `t` begins, in milliseconds since the epoch. */
export const stepStartMs = (t: number, step: number): number => t * step * 1000;

/** The HMAC input for block `block` (exported for the test vectors). */
export function blockMessage(label: string, family: 4 | 6, t: number, block: number): Buffer {
  const head = Buffer.from(`${CONTEXT}\0${label}\0`, 'utf8');
  const tail = Buffer.alloc(10);
  tail[0] = family;
  tail.writeBigUInt64BE(BigInt(t), 1);
  tail[9] = block;
  return Buffer.concat([head, tail]);
}

/** The stream of 32-bit words: HMAC blocks 0, 1, 2, … (at most 256 blocks, 2,048 words). */
function* words(spec: RotatingSpec, family: 4 | 6, t: number): Generator<number> {
  for (let block = 0; block < 256; block++) {
    const mac = createHmac('sha256', spec.secret)
      .update(blockMessage(spec.label, family, t, block))
      .digest();
    for (let at = 0; at < mac.length; at += 4) yield mac.readUInt32BE(at);
  }
}

/**
 * Draws `count` distinct ports from [low, high] out of a stream of 32-bit words, by
 * rejection: a word at or above the largest multiple of the range is skipped, so every port
 * is equally likely (plain `x % range` would favour the low ports). Also returns the next
 * word of the stream after the last port (for "mixed" protocols). Exported for tests.
 */
export function drawPorts(
  stream: Iterator<number>,
  count: number,
  low: number,
  high: number,
): { ports: number[]; next: number } {
  const range = high - low + 1;
  const zone = 2 ** 32 - (2 ** 32 % range);
  const ports: number[] = [];
  while (ports.length < count) {
    const x = stream.next();
    if (x.done) throw new Error('rotating: the HMAC stream ran out (range too small?)');
    if (x.value >= zone) continue;
    const port = low + (x.value % range);
    if (!ports.includes(port)) ports.push(port);
  }
  const next = stream.next();
  return { ports, next: next.done ? 0 : next.value };
}

/** The sequence a rotating door expects in step `t` over address family `family`. */
export function deriveSequence(spec: RotatingSpec, family: 4 | 6, t: number): Knock[] {
  const { ports, next } = drawPorts(words(spec, family, t), spec.length, spec.low, spec.high);
  return ports.map((port, k) => ({
    port,
    protocol: spec.protocols === 'mixed' ? ((next >>> k) & 1 ? 'udp' : 'tcp') : spec.protocols,
  }));
}

/** The steps a daemon accepts around step `t`, oldest first. */
export const acceptedSteps = (t: number, skew: number): number[] =>
  Array.from({ length: 2 * skew + 1 }, (_, i) => t - skew + i);

// --- secrets -----------------------------------------------------------------------------

/** A secret as authenticator apps write it: base32, any case, spaces, dashes and padding allowed. */
export function parseSecret(text: string): { secret?: Uint8Array; problem?: string } {
  const clean = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  if (clean === '') return { problem: 'the secret is empty' };
  const bad = /[^A-Z2-7]/.exec(clean);
  if (bad)
    return {
      problem: `the secret is not base32: '${bad[0]}' is not one of A–Z, 2–7`,
    };
  let secret: Uint8Array;
  try {
    secret = base32nopad.decode(clean);
  } catch {
    return {
      problem: `the secret is not base32: ${clean.length} characters is not a whole number of bytes`,
    };
  }
  if (secret.length < MIN_SECRET_BYTES)
    return {
      problem: `the secret is too short: ${secret.length * 8} bits, at least ${MIN_SECRET_BYTES * 8} needed`,
    };
  return { secret };
}

export const formatSecret = (secret: Uint8Array): string => base32nopad.encode(secret);

/** Parses `LOW-HIGH` (a port range for Sequence_Ports and the profile's `ports`). */
export function parsePortRange(text: string): { low?: number; high?: number; problem?: string } {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  if (!m) return { problem: `'${text}' is not a port range LOW-HIGH (e.g. 10000-65000)` };
  const low = Number(m[1]);
  const high = Number(m[2]);
  if (low < 1 || high > 65535 || low > high)
    return { problem: `port range ${low}-${high} must lie within 1-65535, low first` };
  return { low, high };
}

/** Checks the numbers of a spec; the messages name the setting as `names` spells it. */
export function checkRotating(
  spec: Pick<RotatingSpec, 'length' | 'step' | 'low' | 'high'>,
  names: { length: string; step: string; ports: string },
): string[] {
  const problems: string[] = [];
  const within = (v: number, r: { min: number; max: number }) =>
    Number.isInteger(v) && v >= r.min && v <= r.max;
  if (!within(spec.length, ROTATING_LENGTH))
    problems.push(
      `${names.length} must be a whole number from ${ROTATING_LENGTH.min} to ${ROTATING_LENGTH.max}, not ${spec.length}`,
    );
  if (!within(spec.step, ROTATING_STEP))
    problems.push(
      `${names.step} must be a whole number of seconds from ${ROTATING_STEP.min} to ${ROTATING_STEP.max}, not ${spec.step}`,
    );
  if (spec.high - spec.low + 1 < spec.length)
    problems.push(
      `${names.ports} ${spec.low}-${spec.high} holds ${spec.high - spec.low + 1} ports, fewer than the ${spec.length} distinct knocks of ${names.length}`,
    );
  return problems;
}
