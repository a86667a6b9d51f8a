import * as v from 'valibot';
import {
  checkRotating,
  parsePortRange,
  parseSecret,
  ROTATING_DEFAULTS,
  ROTATING_LENGTH,
  ROTATING_STEP,
  type RotatingProtocols,
} from '../rotating.js';
import type { ProfileRotating } from '../rotating-profile.js';

// The rotating keys of a profile, for profiles-parse.ts (valibot, loaded with it).

export const ROTATING_KEY_RULES = {
  secret_file: {
    schema: v.pipe(v.string(), v.minLength(1)),
    expected: 'the path of a secret file (readable by you only)',
    example: 'secret_file = "~/.config/knock/ssh.example.org.secret"',
  },
  secret: {
    schema: v.pipe(v.string(), v.minLength(1)),
    expected: 'a base32 secret',
    example: 'secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"',
  },
  door: {
    schema: v.pipe(v.string(), v.minLength(1)),
    expected: "the door's name in the server's knockd.conf",
    example: 'door = "ssh"',
  },
  length: {
    schema: v.pipe(
      v.number(),
      v.integer(),
      v.minValue(ROTATING_LENGTH.min),
      v.maxValue(ROTATING_LENGTH.max),
    ),
    expected: `a number of knocks from ${ROTATING_LENGTH.min} to ${ROTATING_LENGTH.max}`,
    example: `length = ${ROTATING_DEFAULTS.length}`,
  },
  step: {
    schema: v.pipe(
      v.number(),
      v.integer(),
      v.minValue(ROTATING_STEP.min),
      v.maxValue(ROTATING_STEP.max),
    ),
    expected: `seconds from ${ROTATING_STEP.min} to ${ROTATING_STEP.max}`,
    example: `step = ${ROTATING_DEFAULTS.step}`,
  },
  ports: {
    schema: v.pipe(
      v.string(),
      v.check((s) => parsePortRange(s).low !== undefined),
    ),
    expected: 'a port range "LOW-HIGH" within 1-65535',
    example: `ports = "${ROTATING_DEFAULTS.low}-${ROTATING_DEFAULTS.high}"`,
  },
  protocols: {
    schema: v.picklist(['tcp', 'udp', 'mixed']),
    expected: '"tcp", "udp" or "mixed"',
    example: 'protocols = "tcp"',
  },
} as const;

export interface RotatingProblem {
  key: string;
  message: string;
  hint: string;
}

/**
 * The rotating settings of a profile whose keys passed their schemas; `problems` for what
 * the keys mean together (both secret and secret_file, no door, a range too small…).
 * Undefined when the profile has no rotating key at all.
 */
export function rotatingFromValues(
  values: Record<string, unknown>,
): { rotating?: ProfileRotating; problems: RotatingProblem[] } | undefined {
  const keys = Object.keys(ROTATING_KEY_RULES).filter((k) => k in values);
  if (keys.length === 0) return undefined;
  const problems: RotatingProblem[] = [];
  const hasSecret = 'secret' in values;
  const hasFile = 'secret_file' in values;
  if (hasSecret && hasFile)
    problems.push({
      key: 'secret',
      message: 'has both secret and secret_file',
      hint: 'keep one of them (secret_file, readable by you only, is safer)',
    });
  if (!hasSecret && !hasFile)
    problems.push({
      key: keys[0] ?? 'door',
      message: `has rotating-sequence keys (${keys.join(', ')}) but no secret_file or secret`,
      hint: 'add secret_file = "PATH" (or import the knock:// URI: knock import URI)',
    });
  if (typeof values.door !== 'string')
    problems.push({
      key: keys[0] ?? 'secret',
      message: "has no door (the name of the door in the server's knockd.conf)",
      hint: 'add door = "ssh"',
    });
  if (typeof values.secret === 'string') {
    const parsed = parseSecret(values.secret);
    if (!parsed.secret)
      problems.push({
        key: 'secret',
        message: `secret: ${parsed.problem ?? 'invalid'}`,
        hint: 'copy it again, or import the knock:// URI',
      });
  }
  const range = typeof values.ports === 'string' ? parsePortRange(values.ports) : {};
  const rotating: ProfileRotating = {
    door: typeof values.door === 'string' ? values.door : '',
    length: typeof values.length === 'number' ? values.length : ROTATING_DEFAULTS.length,
    step: typeof values.step === 'number' ? values.step : ROTATING_DEFAULTS.step,
    low: range.low ?? ROTATING_DEFAULTS.low,
    high: range.high ?? ROTATING_DEFAULTS.high,
    protocols:
      typeof values.protocols === 'string'
        ? (values.protocols as RotatingProtocols)
        : ROTATING_DEFAULTS.protocols,
  };
  if (typeof values.secret === 'string') rotating.secret = values.secret;
  if (typeof values.secret_file === 'string') rotating.secretFile = values.secret_file;
  for (const problem of checkRotating(rotating, {
    length: 'length',
    step: 'step',
    ports: 'ports',
  }))
    problems.push({
      key: problem.split(' ')[0] ?? 'ports',
      message: problem,
      hint: "use the values the server's door has (knock-server secret new prints them)",
    });
  return problems.length > 0 ? { problems } : { rotating, problems };
}
