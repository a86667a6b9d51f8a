import { cTrim, leadingSpace } from './c-text.js';
import { KnockError, type Issue } from './errors.js';
import { ExitCode } from './exit-codes.js';
import {
  formatSequence,
  MAX_SEQUENCE_LENGTH,
  parseSequence,
  sameSequence,
  type Knock,
} from './sequence.js';

/**
 * One-time-sequence files in knockd's format (knockd.md §1.5): one sequence per line in
 * the `Sequence` syntax; blank lines and lines starting with `#` (after blanks) are skipped;
 * the current sequence is the first valid line; a used line has its first character
 * overwritten with `#`, in place. That is why lines are written with a leading space:
 * `#7001,7002` would lose the first digit, ` 7001,7002` becomes `#7001,7002`.
 */
export interface OtsEntry {
  /** 1-based line number in the file. */
  line: number;
  knocks: Knock[];
}

export interface OtsParse {
  /** The unused valid sequences, in file order: `entries[0]` is the current one. */
  entries: OtsEntry[];
  issues: Issue[];
}

/** A byte order mark at the start of a file: not part of its first line. */
const BOM = '\uFEFF';
const BOM_BYTES = [0xef, 0xbb, 0xbf] as const;

/**
 * Parses a one-time-sequence file. Never throws; bad lines are skipped and reported (a
 * caller that must not guess, such as the client choosing what to knock, refuses a file
 * with errors). A leading byte order mark is not part of the first line.
 */
export function parseOtsFile(text: string, file?: string): OtsParse {
  const entries: OtsEntry[] = [];
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  (text.startsWith(BOM) ? text.slice(1) : text).split('\n').forEach((raw, index) => {
    const line = index + 1;
    const lead = leadingSpace(raw);
    const content = cTrim(raw);
    if (content === '' || content.startsWith('#')) return;
    const parsed = parseSequence(
      content,
      file === undefined ? { line, column: lead + 1 } : { file, line, column: lead + 1 },
    );
    const errors = parsed.issues.filter((i) => i.severity === 'error');
    if (errors.length > 0) {
      // knockd skips a line it cannot parse, but reads some bad lines (x,y) as ports 0:
      // either way the line is not a usable sequence.
      for (const issue of errors) {
        issues.push({
          ...issue,
          code: `ots.${issue.code}`,
          message: `${issue.message}: this line is not a usable one-time sequence`,
          hint: `${issue.hint ?? 'fix the line'}, or comment the line out with #`,
        });
      }
      return;
    }
    issues.push(...parsed.issues);
    const key = formatSequence(parsed.knocks);
    const first = seen.get(key);
    if (first !== undefined) {
      const issue: Issue = {
        severity: 'warning',
        code: 'ots.duplicate',
        message: `the sequence ${key} is also on line ${first}: whoever saw it used once can replay it`,
        hint: 'generate a fresh file: knock-server ots generate',
        line,
        column: lead + 1,
      };
      if (file !== undefined) issue.file = file;
      issues.push(issue);
    } else {
      seen.set(key, line);
    }
    entries.push({ line, knocks: parsed.knocks });
  });
  return { entries, issues };
}

/** The sequence to knock now: the first unused valid line. */
export function currentSequence(text: string): OtsEntry | undefined {
  return parseOtsFile(text).entries[0];
}

const notUnused = (line: number) =>
  new KnockError(
    'ots.notUnused',
    `line ${line} of the one-time-sequence file does not hold an unused sequence`,
    { exitCode: ExitCode.otsFile, hint: 'mark only a line that parseOtsFile listed' },
  );

/**
 * Marks the sequence on `line` used, the way knockd does: its first character (after a
 * byte order mark on line 1) becomes `#`, every other character stays as it was. Throws
 * a KnockError when that line does not hold an unused valid sequence. Files are marked
 * with markUsedBytes, which keeps bytes that are not UTF-8 too.
 */
export function markUsed(text: string, line: number): string {
  if (!parseOtsFile(text).entries.some((e) => e.line === line)) throw notUnused(line);
  let start = text.startsWith(BOM) ? 1 : 0;
  for (let n = 1; n < line; n++) start = text.indexOf('\n', start) + 1;
  return `${text.slice(0, start)}#${text.slice(start + 1)}`;
}

/**
 * markUsed on the file's bytes: a copy of `bytes` in which exactly one byte differs, the
 * first byte of `line` (after a byte order mark on line 1), which becomes `#`. A comment
 * in Latin-1 or any other byte that is not UTF-8 is left exactly as it was.
 */
export function markUsedBytes(bytes: Uint8Array, line: number): Uint8Array {
  if (!parseOtsFile(decodeOts(bytes)).entries.some((e) => e.line === line)) throw notUnused(line);
  const hasBom = BOM_BYTES.every((b, i) => bytes[i] === b);
  let start = hasBom ? BOM_BYTES.length : 0;
  for (let n = 1; n < line; n++) start = bytes.indexOf(0x0a, start) + 1;
  const marked = Uint8Array.from(bytes);
  marked[start] = 0x23; // '#'
  return marked;
}

/**
 * A one-time-sequence file's bytes as text. Bytes that are not UTF-8 become U+FFFD (only
 * comments can hold them in a valid file); a newline byte is never part of a multi-byte
 * character, so line numbers are the same in the bytes and in the text.
 */
export function decodeOts(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(bytes);
}

/** The entry whose knocks equal `knocks` (knockd marks the first such line), if unused. */
export function findOtsEntry(text: string, knocks: readonly Knock[]): OtsEntry | undefined {
  return parseOtsFile(text).entries.find((e) => sameSequence(e.knocks, knocks));
}

export interface GenerateOtsOptions {
  /** How many sequences (`--count`). */
  count: number;
  /** Knocks per sequence (`--length`), 1 to 32. */
  length: number;
  /** Share of UDP knocks, 0 to 1 (`--udp-ratio`); default 0. */
  udpRatio?: number;
  /** Lowest port (`--min-port`); default 1024, so no knock goes to a privileged service port. */
  minPort?: number;
  /** Highest port (`--max-port`); default 65535. */
  maxPort?: number;
  /** The random source, when not given as the second argument. */
  randomInt?: (maxExclusive: number) => number;
}

/** Uniform integer in [0, maxExclusive) from Web Crypto (available in Node 20 without imports). */
export function cryptoRandomInt(maxExclusive: number): number {
  if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > 2 ** 32) {
    throw new RangeError(`cryptoRandomInt: bad bound ${maxExclusive}`);
  }
  // Rejection sampling: no modulo bias.
  const limit = 2 ** 32 - (2 ** 32 % maxExclusive);
  const buffer = new Uint32Array(1);
  for (;;) {
    globalThis.crypto.getRandomValues(buffer);
    const value = buffer[0] ?? 0;
    if (value < limit) return value % maxExclusive;
  }
}

const usage = (message: string, hint: string): KnockError =>
  new KnockError('ots.generate.usage', message, { exitCode: ExitCode.usage, hint });

const MAX_COUNT = 1_000_000;

/**
 * A new one-time-sequence file: a header comment, then `count` distinct sequences of
 * `length` knocks, each line starting with a space, no port twice in a sequence.
 * Validates the options with messages that name the command-line flag.
 */
export function generateOts(
  opts: GenerateOtsOptions,
  randomInt: (maxExclusive: number) => number = opts.randomInt ?? cryptoRandomInt,
): string {
  const { count, length } = opts;
  const udpRatio = opts.udpRatio ?? 0;
  const minPort = opts.minPort ?? 1024;
  const maxPort = opts.maxPort ?? 65535;
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw usage(
      `--count must be a whole number from 1 to ${MAX_COUNT} (got ${count})`,
      'e.g. --count 50',
    );
  }
  if (!Number.isInteger(length) || length < 1 || length > MAX_SEQUENCE_LENGTH) {
    throw usage(
      `--length must be a whole number from 1 to ${MAX_SEQUENCE_LENGTH} (got ${length})`,
      'e.g. --length 3',
    );
  }
  if (!Number.isFinite(udpRatio) || udpRatio < 0 || udpRatio > 1) {
    throw usage(
      `--udp-ratio must be a number from 0 to 1 (got ${udpRatio})`,
      'e.g. --udp-ratio 0.5 for half UDP knocks',
    );
  }
  for (const [flag, port] of [
    ['--min-port', minPort],
    ['--max-port', maxPort],
  ] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw usage(`${flag} must be a port from 1 to 65535 (got ${port})`, 'e.g. --min-port 1024');
    }
  }
  const range = maxPort - minPort + 1;
  if (range < length) {
    throw usage(
      `--min-port ${minPort} to --max-port ${maxPort} has ${Math.max(range, 0)} ports, fewer than --length ${length}`,
      'widen the port range or shorten the sequences',
    );
  }

  // A sequence: `length` distinct ports by a partial Fisher-Yates over the range (sparse swap map).
  const drawSequence = (): Knock[] => {
    const swapped = new Map<number, number>();
    const knocks: Knock[] = [];
    for (let i = 0; i < length; i++) {
      const j = i + randomInt(range - i);
      const picked = swapped.get(j) ?? j;
      swapped.set(j, swapped.get(i) ?? i);
      const udp = udpRatio >= 1 || (udpRatio > 0 && randomInt(1_000_000) < udpRatio * 1_000_000);
      knocks.push({ port: minPort + picked, protocol: udp ? 'udp' : 'tcp' });
    }
    return knocks;
  };

  // Every sequence in a file is distinct (a repeat could be replayed), so --count is
  // bounded by the number of possible sequences: range!/(range-length)! × 2^length with UDP.
  let possible = udpRatio > 0 && udpRatio < 1 ? 2 ** length : 1;
  for (let i = 0; i < length && possible <= count; i++) possible *= range - i;
  const tooMany = () =>
    usage(
      `--count ${count} is more than the distinct sequences of --length ${length} that ports ${minPort}-${maxPort} allow`,
      'lower --count, or widen the port range or lengthen the sequences',
    );
  if (possible < count) throw tooMany();

  const lines = new Set<string>();
  let misses = 0;
  while (lines.size < count) {
    const line = ` ${formatSequence(drawSequence())}`;
    if (lines.has(line)) {
      // Only when count is close to `possible`; bounded so a bad random source cannot hang us.
      if (++misses > 100 * count + 10_000) throw tooMany();
      continue;
    }
    lines.add(line);
  }
  const udpNote = udpRatio > 0 ? `, about ${Math.round(udpRatio * 100)}% UDP` : '';
  const header = [
    `# knock one-time sequences: ${count} sequence${count === 1 ? '' : 's'} of ${length} knock${length === 1 ? '' : 's'}, ports ${minPort}-${maxPort}${udpNote}.`,
    '# Give the same file to the door (One_Time_Sequences = FILE) and to its clients.',
    "# Each is used once, in order; a used line's first character becomes '#'.",
  ];
  return `${[...header, ...lines].join('\n')}\n`;
}
