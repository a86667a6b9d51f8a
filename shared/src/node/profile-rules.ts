/**
 * What each key of a client profile may hold (one rule per key, the rotating ones from
 * rotating-profile-parse.ts), and how keys and values are shown in messages. Pure.
 */
import type { AST } from 'toml-eslint-parser';
import { closest } from '../did-you-mean.js';
import { PROFILE_KEYS, tomlString } from '../profile.js';
import { ROTATING_KEY_RULES } from './rotating-profile-parse.js';

const MAX_DELAY_MS = 60_000;
const MAX_VERIFY_TIMEOUT_MS = 600_000;
/** One year: the longest grant the server's firewall holds. */
const MAX_OPEN_FOR = 31_536_000;

export type Value = AST.TOMLContentNode;

export interface Rule {
  check(value: Value): boolean;
  expected: string;
  example: string;
}

const isInteger = (min: number, max: number) => (value: Value) =>
  value.type === 'TOMLValue' &&
  value.kind === 'integer' &&
  value.bigint >= BigInt(min) &&
  value.bigint <= BigInt(max);

export const isString = (value: Value): value is AST.TOMLStringValue =>
  value.type === 'TOMLValue' && value.kind === 'string';

/** One rule per key; looked up with Object.hasOwn (a key named `constructor` is just unknown). */
const KEY_RULES: Readonly<Record<string, Rule>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, Rule>, {
    sequence: {
      check: isString,
      expected: 'a string in knockd Sequence syntax',
      example: 'sequence = "1228,1227"',
    },
    one_time_sequences: {
      check: (v: Value) => isString(v) && v.value !== '',
      expected: 'the path of a one-time-sequence file',
      example: 'one_time_sequences = "~/.config/knock/host.ots"',
    },
    port: {
      check: isInteger(1, 65535),
      expected: 'a port number from 1 to 65535',
      example: 'port = 22',
    },
    family: {
      check: (v: Value) => isString(v) && ['any', 'ipv4', 'ipv6'].includes(v.value),
      expected: '"any", "ipv4" or "ipv6"',
      example: 'family = "any"',
    },
    delay_ms: {
      check: isInteger(0, MAX_DELAY_MS),
      expected: `a whole number of milliseconds from 0 to ${MAX_DELAY_MS}`,
      example: 'delay_ms = 200',
    },
    verify_timeout_ms: {
      check: isInteger(1, MAX_VERIFY_TIMEOUT_MS),
      expected: `a whole number of milliseconds from 1 to ${MAX_VERIFY_TIMEOUT_MS}`,
      example: 'verify_timeout_ms = 5000',
    },
    open_for: {
      check: isInteger(1, MAX_OPEN_FOR),
      expected: `a whole number of seconds from 1 to ${MAX_OPEN_FOR} (the server's Open_Timeout)`,
      example: 'open_for = 300',
    },
    close_sequence: {
      check: (v: Value) => isString(v) && v.value !== '',
      expected: "a string in knockd Sequence syntax (the server's Revoke door)",
      example: 'close_sequence = "9000,8000,7000"',
    },
    keep_open: {
      check: (v: Value) => v.type === 'TOMLValue' && v.kind === 'boolean',
      expected: 'true or false',
      example: 'keep_open = true',
    },
    // secret_file, secret, door, length, step, ports, protocols (rotating sequences)
    ...ROTATING_KEY_RULES,
  }),
);

export const ruleFor = (key: string): Rule | undefined =>
  Object.hasOwn(KEY_RULES, key) ? KEY_RULES[key] : undefined;

export function closestKey(key: string): string | undefined {
  if (key.length > 40) return undefined;
  return closest(key, PROFILE_KEYS, (text) => text.toLowerCase());
}

export const keyName = (k: AST.TOMLBare | AST.TOMLQuoted): string =>
  k.type === 'TOMLBare' ? k.name : k.value;

/** A key as TOML would write it back: bare when it can be, else quoted. */
export const showKey = (key: string): string =>
  /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);

/** A value as written in the file, shortened for a message. */
export function showValue(text: string, value: Value): string {
  if (value.type === 'TOMLArray') return 'an array';
  if (value.type === 'TOMLInlineTable') return 'a table';
  const raw = text.slice(value.range[0], value.range[1]);
  return raw.length > 40 ? `${raw.slice(0, 37)}...` : raw;
}
