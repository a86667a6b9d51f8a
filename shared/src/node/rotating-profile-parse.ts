import type { AST } from 'toml-eslint-parser';
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

// The rotating keys of a profile, for profiles-parse.ts (checked on toml-eslint-parser's
// syntax tree, loaded with it).

type Value = AST.TOMLContentNode;

/** How one key's value is checked, and what the message says it should be. */
export interface ProfileKeyRule {
  check(value: Value): boolean;
  expected: string;
  example: string;
}

const isString = (value: Value): value is AST.TOMLStringValue =>
  value.type === 'TOMLValue' && value.kind === 'string';

const nonEmptyString = (value: Value) => isString(value) && value.value !== '';

const isInteger = (range: { min: number; max: number }) => (value: Value) =>
  value.type === 'TOMLValue' &&
  value.kind === 'integer' &&
  value.bigint >= BigInt(range.min) &&
  value.bigint <= BigInt(range.max);

export const ROTATING_KEY_RULES: Readonly<Record<string, ProfileKeyRule>> = {
  secret_file: {
    check: nonEmptyString,
    expected: 'the path of a secret file (readable by you only)',
    example: 'secret_file = "~/.config/knock/ssh.example.org.secret"',
  },
  secret: {
    check: nonEmptyString,
    expected: 'a base32 secret',
    example: 'secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"',
  },
  door: {
    check: nonEmptyString,
    expected: "the door's name in the server's knockd.conf",
    example: 'door = "ssh"',
  },
  length: {
    check: isInteger(ROTATING_LENGTH),
    expected: `a number of knocks from ${ROTATING_LENGTH.min} to ${ROTATING_LENGTH.max}`,
    example: `length = ${ROTATING_DEFAULTS.length}`,
  },
  step: {
    check: isInteger(ROTATING_STEP),
    expected: `seconds from ${ROTATING_STEP.min} to ${ROTATING_STEP.max}`,
    example: `step = ${ROTATING_DEFAULTS.step}`,
  },
  ports: {
    check: (value) => isString(value) && parsePortRange(value.value).low !== undefined,
    expected: 'a port range "LOW-HIGH" within 1-65535',
    example: `ports = "${ROTATING_DEFAULTS.low}-${ROTATING_DEFAULTS.high}"`,
  },
  protocols: {
    check: (value) => isString(value) && ['tcp', 'udp', 'mixed'].includes(value.value),
    expected: '"tcp", "udp" or "mixed"',
    example: 'protocols = "tcp"',
  },
};

export const isRotatingKey = (key: string): boolean => Object.hasOwn(ROTATING_KEY_RULES, key);

export interface RotatingProblem {
  key: string;
  message: string;
  hint: string;
}

/**
 * The rotating settings of a profile whose keys passed their rules (`values`, by key);
 * `problems` for what the keys mean together (both secret and secret_file, no door, a
 * range too small…). Undefined when the profile has no rotating key at all.
 */
export function rotatingFromValues(
  values: ReadonlyMap<string, Value>,
): { rotating?: ProfileRotating; problems: RotatingProblem[] } | undefined {
  const keys = Object.keys(ROTATING_KEY_RULES).filter((k) => values.has(k));
  if (keys.length === 0) return undefined;
  const str = (key: string): string | undefined => {
    const v = values.get(key);
    return v && isString(v) ? v.value : undefined;
  };
  const int = (key: string): number | undefined => {
    const v = values.get(key);
    return v?.type === 'TOMLValue' && v.kind === 'integer' ? Number(v.bigint) : undefined;
  };
  const problems: RotatingProblem[] = [];
  const secret = str('secret');
  const secretFile = str('secret_file');
  const door = str('door');
  if (secret !== undefined && secretFile !== undefined)
    problems.push({
      key: 'secret',
      message: 'has both secret and secret_file',
      hint: 'keep one of them (secret_file, readable by you only, is safer)',
    });
  if (secret === undefined && secretFile === undefined)
    problems.push({
      key: keys[0] ?? 'door',
      message: `has rotating-sequence keys (${keys.join(', ')}) but no secret_file or secret`,
      hint: 'add secret_file = "PATH" (or import the knock:// URI: knock import URI)',
    });
  if (door === undefined)
    problems.push({
      key: keys[0] ?? 'secret',
      message: "has no door (the name of the door in the server's knockd.conf)",
      hint: 'add door = "ssh"',
    });
  if (secret !== undefined) {
    const parsed = parseSecret(secret);
    if (!parsed.secret)
      problems.push({
        key: 'secret',
        message: `secret: ${parsed.problem ?? 'invalid'}`,
        hint: 'copy it again, or import the knock:// URI',
      });
  }
  const ports = str('ports');
  const range = ports === undefined ? {} : parsePortRange(ports);
  const rotating: ProfileRotating = {
    door: door ?? '',
    length: int('length') ?? ROTATING_DEFAULTS.length,
    step: int('step') ?? ROTATING_DEFAULTS.step,
    low: range.low ?? ROTATING_DEFAULTS.low,
    high: range.high ?? ROTATING_DEFAULTS.high,
    protocols: (str('protocols') as RotatingProtocols | undefined) ?? ROTATING_DEFAULTS.protocols,
  };
  if (secret !== undefined) rotating.secret = secret;
  if (secretFile !== undefined) rotating.secretFile = secretFile;
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
