/**
 * The client's half of rotating doors: the profile's settings, and the `knock://` URI
 * that carries them from `knock-server secret new` to `knock import` (or a phone app,
 * through the QR code). Pure.
 *
 *   knock://HOST?door=ssh&secret=BASE32&length=4&step=30&ports=10000-65000&protocols=tcp&port=22
 *
 * HOST is a name or an address (IPv6 in brackets); every parameter but `secret` and
 * `door` may be left out for its default; `port` is the port to probe after knocking.
 */
import {
  checkRotating,
  formatSecret,
  parsePortRange,
  parseSecret,
  ROTATING_DEFAULTS,
  type RotatingProtocols,
  type RotatingSpec,
} from './rotating.js';

/** A profile's rotating settings (`secret_file` or `secret`, `door`, `length`, `step`, `ports`, `protocols`). */
export interface ProfileRotating {
  /** `secret`: the base32 text (a file is better: `secret_file`). */
  secret?: string;
  /** `secret_file`: a file holding the secret (`~` expanded by the loader). */
  secretFile?: string;
  /** `door`: the door's name in the server's knockd.conf, part of the derivation. */
  door: string;
  length: number;
  step: number;
  low: number;
  high: number;
  protocols: RotatingProtocols;
}

export const ROTATING_PROFILE_KEYS = [
  'secret_file',
  'secret',
  'door',
  'length',
  'step',
  'ports',
  'protocols',
] as const;

/** The derivation input of a profile whose secret is known. */
export const profileSpec = (r: ProfileRotating, secret: Uint8Array): RotatingSpec => ({
  secret,
  label: r.door,
  length: r.length,
  step: r.step,
  low: r.low,
  high: r.high,
  protocols: r.protocols,
});

export interface KnockUri {
  host: string;
  rotating: ProfileRotating & { secret: string };
  port?: number;
}

/** `knock://…` for a host and its rotating settings. */
export function formatKnockUri(uri: KnockUri): string {
  const r = uri.rotating;
  const params = new URLSearchParams({ door: r.door, secret: r.secret });
  if (r.length !== ROTATING_DEFAULTS.length) params.set('length', String(r.length));
  if (r.step !== ROTATING_DEFAULTS.step) params.set('step', String(r.step));
  if (r.low !== ROTATING_DEFAULTS.low || r.high !== ROTATING_DEFAULTS.high)
    params.set('ports', `${r.low}-${r.high}`);
  if (r.protocols !== ROTATING_DEFAULTS.protocols) params.set('protocols', r.protocols);
  if (uri.port !== undefined) params.set('port', String(uri.port));
  const host = uri.host.includes(':') ? `[${uri.host}]` : uri.host;
  return `knock://${host}?${params.toString()}`;
}

/** Parses a `knock://` URI; `problem` says what is wrong in words for the user. */
export function parseKnockUri(text: string): { uri?: KnockUri; problem?: string } {
  const trimmed = text.trim();
  if (!/^knock:\/\//i.test(trimmed))
    return { problem: `'${trimmed.slice(0, 40)}' is not a knock:// URI` };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { problem: 'the URI is malformed (was it cut when copied?)' };
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return { problem: 'the URI names no host (knock://HOST?…)' };
  const get = (key: string) => url.searchParams.get(key) ?? undefined;
  const secretText = get('secret');
  if (secretText === undefined) return { problem: 'the URI has no secret= parameter' };
  const secret = parseSecret(secretText);
  if (!secret.secret) return { problem: `secret=: ${secret.problem ?? 'invalid'}` };
  const door = get('door');
  if (door === undefined || door === '')
    return { problem: "the URI has no door= parameter (the door's name in knockd.conf)" };
  const whole = (key: string, fallback: number): number | string => {
    const value = get(key);
    if (value === undefined) return fallback;
    return /^\d{1,9}$/.test(value) ? Number(value) : `${key}=${value} is not a whole number`;
  };
  const length = whole('length', ROTATING_DEFAULTS.length);
  const step = whole('step', ROTATING_DEFAULTS.step);
  const port = whole('port', 0);
  for (const v of [length, step, port]) if (typeof v === 'string') return { problem: v };
  const range = get('ports');
  let low: number = ROTATING_DEFAULTS.low;
  let high: number = ROTATING_DEFAULTS.high;
  if (range !== undefined) {
    const parsed = parsePortRange(range);
    if (parsed.low === undefined || parsed.high === undefined)
      return { problem: `ports=: ${parsed.problem ?? 'invalid'}` };
    ({ low, high } = parsed);
  }
  const protocols = (get('protocols') ?? ROTATING_DEFAULTS.protocols).toLowerCase();
  if (protocols !== 'tcp' && protocols !== 'udp' && protocols !== 'mixed')
    return { problem: `protocols=${protocols} is not tcp, udp or mixed` };
  const rotating = {
    secret: formatSecret(secret.secret),
    door,
    length: length as number,
    step: step as number,
    low,
    high,
    protocols: protocols as RotatingProtocols,
  };
  const problems = checkRotating(rotating, { length: 'length=', step: 'step=', ports: 'ports=' });
  if (problems.length > 0) return { problem: problems.join('; ') };
  if (typeof port === 'number' && port > 65535)
    return { problem: `port=${port} is not a port number (1-65535)` };
  return { uri: { host, rotating, ...(port !== 0 ? { port: port as number } : {}) } };
}
