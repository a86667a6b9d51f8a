/**
 * The knockd.conf directives of a rotating door (extension, issue 11): a door whose
 * sequence is derived from a shared secret and the clock (see ../rotating.ts).
 *
 *   [ssh]
 *       Sequence_Secret_File = /etc/knock-server/ssh.secret   (or Sequence_Secret = BASE32)
 *       Sequence_Length      = 4            (2-32)
 *       Sequence_Step        = 30           (seconds, 1-86400)
 *       Sequence_Ports       = 10000-65000
 *       Sequence_Skew        = 1            (steps accepted either side, 0-10)
 *       Sequence_Protocols   = tcp          (tcp | udp | mixed)
 *       Sequence_Secret_Previous_File  = /etc/knock-server/ssh.secret.old
 *       Sequence_Secret_Previous_Until = 2026-12-31T12:00:00Z
 *
 * Pure: parse.ts hands each directive here and calls finishRotatingDoor at the end of the
 * door. Reading the secret files (and refusing loose permissions) is I/O: it happens in
 * @knock/shared/node's loadRotatingSecrets, which fills in `secret` / `previousSecret`.
 */
import {
  checkRotating,
  formatSecret,
  parsePortRange,
  parseSecret,
  ROTATING_DEFAULTS,
  ROTATING_SKEW,
  type RotatingProtocols,
  type RotatingSpec,
} from '../rotating.js';
import type { Report } from './report.js';

export const ROTATING_DIRECTIVES = [
  'Sequence_Secret',
  'Sequence_Secret_File',
  'Sequence_Length',
  'Sequence_Step',
  'Sequence_Ports',
  'Sequence_Skew',
  'Sequence_Protocols',
  'Sequence_Secret_Previous_File',
  'Sequence_Secret_Previous_Until',
] as const;
export type RotatingDirective = (typeof ROTATING_DIRECTIVES)[number];

/** A door's rotating settings, as the config gives them. */
export interface RotatingDoor {
  /** The secret, decoded: from Sequence_Secret, or read from `secretFile` by the loader. */
  secret?: Uint8Array;
  secretFile?: string;
  length: number;
  /** Seconds per step. */
  step: number;
  low: number;
  high: number;
  /** Steps accepted either side of the daemon's own. */
  skew: number;
  protocols: RotatingProtocols;
  /** The secret being replaced, accepted until `previousUntil` (ms since the epoch). */
  previousFile?: string;
  previousSecret?: Uint8Array;
  previousUntil?: number;
  /** The line of each directive given (errors about files name them). */
  lines: Partial<Record<RotatingDirective, number>>;
}

/** The derivation input for one of the door's secrets. */
export const rotatingSpec = (
  label: string,
  rotating: RotatingDoor,
  secret: Uint8Array,
): RotatingSpec => ({
  secret,
  label,
  length: rotating.length,
  step: rotating.step,
  low: rotating.low,
  high: rotating.high,
  protocols: rotating.protocols,
});

export const newRotatingDoor = (): RotatingDoor => ({
  length: ROTATING_DEFAULTS.length,
  step: ROTATING_DEFAULTS.step,
  low: ROTATING_DEFAULTS.low,
  high: ROTATING_DEFAULTS.high,
  skew: ROTATING_DEFAULTS.skew,
  protocols: ROTATING_DEFAULTS.protocols,
  lines: {},
});

const wholeNumber = (value: string): number | undefined =>
  /^\+?\d{1,9}$/.test(value) ? Number(value) : undefined;

/**
 * Applies one rotating directive to `rotating` (created on the door's first one). The
 * door name is in every message, the line and column come with the report.
 */
export function applyRotatingDirective(
  doorName: string,
  rotating: RotatingDoor,
  name: RotatingDirective,
  value: string,
  line: number,
  column: number,
  error: Report,
): void {
  const where = `door '${doorName}'`;
  rotating.lines[name] = line;
  switch (name) {
    case 'Sequence_Secret': {
      const parsed = parseSecret(value);
      if (parsed.secret) rotating.secret = parsed.secret;
      else
        error(
          'config.rotating.secret',
          line,
          column,
          `Sequence_Secret in ${where}: ${parsed.problem ?? 'invalid'}`,
          'make a new one with knock-server secret new DOOR (prefer Sequence_Secret_File: the config is often readable by others)',
        );
      return;
    }
    case 'Sequence_Secret_File':
    case 'Sequence_Secret_Previous_File':
      if (value === '') {
        error(
          'config.value.empty',
          line,
          column,
          `${name} has no value in ${where}`,
          `write ${name} = /etc/knock-server/${doorName}.secret`,
        );
        return;
      }
      if (name === 'Sequence_Secret_File') rotating.secretFile = value;
      else rotating.previousFile = value;
      return;
    case 'Sequence_Length':
    case 'Sequence_Step':
    case 'Sequence_Skew': {
      const n = wholeNumber(value);
      if (n === undefined) {
        const example = { Sequence_Length: 4, Sequence_Step: 30, Sequence_Skew: 1 }[name];
        error(
          'config.rotating.number',
          line,
          column,
          `${name} = ${value === '' ? '(nothing)' : value} in ${where} is not a whole number`,
          `write e.g. ${name} = ${example}`,
        );
        return;
      }
      if (name === 'Sequence_Skew') {
        if (n > ROTATING_SKEW.max)
          error(
            'config.rotating.skew',
            line,
            column,
            `Sequence_Skew = ${n} in ${where} accepts too many steps either side`,
            `write a number of steps from ${ROTATING_SKEW.min} to ${ROTATING_SKEW.max} (default ${ROTATING_DEFAULTS.skew})`,
          );
        else rotating.skew = n;
      } else if (name === 'Sequence_Length') rotating.length = n;
      else rotating.step = n;
      return;
    }
    case 'Sequence_Ports': {
      const range = parsePortRange(value);
      if (range.low === undefined || range.high === undefined)
        error(
          'config.rotating.ports',
          line,
          column,
          `Sequence_Ports in ${where}: ${range.problem ?? 'invalid'}`,
          `write e.g. Sequence_Ports = ${ROTATING_DEFAULTS.low}-${ROTATING_DEFAULTS.high}`,
        );
      else {
        rotating.low = range.low;
        rotating.high = range.high;
      }
      return;
    }
    case 'Sequence_Protocols': {
      const p = value.toLowerCase();
      if (p === 'tcp' || p === 'udp' || p === 'mixed') rotating.protocols = p;
      else
        error(
          'config.rotating.protocols',
          line,
          column,
          `Sequence_Protocols = ${value === '' ? '(nothing)' : value} in ${where} is not tcp, udp or mixed`,
          'write Sequence_Protocols = tcp (the default), udp or mixed',
        );
      return;
    }
    case 'Sequence_Secret_Previous_Until': {
      // ISO-8601 with a date and a time; a zone-less time would depend on the server's TZ.
      const ok = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
      const ms = ok ? Date.parse(value) : NaN;
      if (Number.isNaN(ms))
        error(
          'config.rotating.until',
          line,
          column,
          `Sequence_Secret_Previous_Until = ${value === '' ? '(nothing)' : value} in ${where} is not an ISO-8601 date and time with a zone`,
          'write e.g. Sequence_Secret_Previous_Until = 2026-12-31T12:00:00Z',
        );
      else rotating.previousUntil = ms;
      return;
    }
  }
}

/**
 * At the end of a door: what the directives mean together. `sequenceLine` is the line of a
 * Sequence or One_Time_Sequences in the same door (a door is fixed or rotating, not both).
 */
export function finishRotatingDoor(
  doorName: string,
  doorLine: number,
  rotating: RotatingDoor,
  sequenceLine: number | undefined,
  error: Report,
  warning: Report,
): void {
  const where = `door '${doorName}'`;
  const { lines } = rotating;
  const firstLine =
    Math.min(...Object.values(lines).filter((n): n is number => n !== undefined)) || doorLine;
  const secretLine = lines.Sequence_Secret ?? lines.Sequence_Secret_File;
  if (lines.Sequence_Secret !== undefined && lines.Sequence_Secret_File !== undefined)
    error(
      'config.rotating.twoSecrets',
      Math.max(lines.Sequence_Secret, lines.Sequence_Secret_File),
      0,
      `${where} has both Sequence_Secret and Sequence_Secret_File`,
      'keep one of them (Sequence_Secret_File, readable by root only, is safer)',
    );
  if (secretLine === undefined)
    error(
      'config.rotating.noSecret',
      firstLine,
      0,
      `${where} has rotating-sequence settings but no secret`,
      `add Sequence_Secret_File = /etc/knock-server/${doorName}.secret (knock-server secret new ${doorName} makes one)`,
    );
  if (sequenceLine !== undefined)
    error(
      'config.rotating.withSequence',
      sequenceLine,
      0,
      `${where} has both a fixed sequence (line ${sequenceLine}) and a rotating one (Sequence_Secret…)`,
      'keep one: remove the Sequence / One_Time_Sequences line, or the Sequence_Secret… lines',
    );
  const names = {
    length: 'Sequence_Length',
    step: 'Sequence_Step',
    ports: 'Sequence_Ports',
  } as const;
  for (const problem of checkRotating(rotating, names)) {
    const directive = (Object.keys(names) as (keyof typeof names)[]).find((k) =>
      problem.startsWith(names[k]),
    );
    const line = (directive && lines[names[directive]]) ?? firstLine;
    error(
      'config.rotating.range',
      line,
      0,
      `${where}: ${problem}`,
      'see "Rotating sequences" in the README for the allowed values',
    );
  }
  const hasPrevious = lines.Sequence_Secret_Previous_File !== undefined;
  const hasUntil = lines.Sequence_Secret_Previous_Until !== undefined;
  if (hasPrevious !== hasUntil)
    error(
      'config.rotating.previous',
      (hasPrevious ? lines.Sequence_Secret_Previous_File : lines.Sequence_Secret_Previous_Until) ??
        firstLine,
      0,
      hasPrevious
        ? `${where}: Sequence_Secret_Previous_File needs Sequence_Secret_Previous_Until (when the old secret stops working)`
        : `${where}: Sequence_Secret_Previous_Until without Sequence_Secret_Previous_File`,
      hasPrevious
        ? 'add e.g. Sequence_Secret_Previous_Until = 2026-12-31T12:00:00Z'
        : 'add Sequence_Secret_Previous_File = PATH of the old secret, or remove the line',
    );
  if (rotating.skew * 2 + 1 > 1 && rotating.step * (rotating.skew * 2 + 1) > 86_400)
    warning(
      'config.rotating.window',
      lines.Sequence_Skew ?? lines.Sequence_Step ?? firstLine,
      0,
      `${where}: Sequence_Step × (2 × Sequence_Skew + 1) accepts each sequence for more than a day`,
      'a shorter step or a smaller skew narrows the window in which a sniffed but unused knock works',
    );
}

/**
 * The directives that write `rotating` back (serializeConfig): the secret file, or the
 * secret inline when there is none; the settings that differ from the defaults.
 */
export function rotatingDirectives(rotating: RotatingDoor): [RotatingDirective, string][] {
  const out: [RotatingDirective, string][] = [];
  if (rotating.secretFile !== undefined) out.push(['Sequence_Secret_File', rotating.secretFile]);
  else if (rotating.secret !== undefined)
    out.push(['Sequence_Secret', formatSecret(rotating.secret)]);
  if (rotating.length !== ROTATING_DEFAULTS.length)
    out.push(['Sequence_Length', String(rotating.length)]);
  if (rotating.step !== ROTATING_DEFAULTS.step) out.push(['Sequence_Step', String(rotating.step)]);
  if (rotating.low !== ROTATING_DEFAULTS.low || rotating.high !== ROTATING_DEFAULTS.high)
    out.push(['Sequence_Ports', `${rotating.low}-${rotating.high}`]);
  if (rotating.skew !== ROTATING_DEFAULTS.skew) out.push(['Sequence_Skew', String(rotating.skew)]);
  if (rotating.protocols !== ROTATING_DEFAULTS.protocols)
    out.push(['Sequence_Protocols', rotating.protocols]);
  if (rotating.previousFile !== undefined)
    out.push(['Sequence_Secret_Previous_File', rotating.previousFile]);
  if (rotating.previousUntil !== undefined)
    out.push([
      'Sequence_Secret_Previous_Until',
      new Date(rotating.previousUntil).toISOString().replace('.000Z', 'Z'),
    ]);
  return out;
}
