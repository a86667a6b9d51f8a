import { cTrim, leadingSpace } from '../c-text.js';
import type { Issue } from '../errors.js';
import { formatIpv6Words } from '../ip-text.js';
import { parseSequence, type Protocol } from '../sequence.js';
import { parseRevokeValue, resolveRevokes, type RevokeRef } from './revoke.js';
import {
  DEFAULT_CMD_TIMEOUT,
  DEFAULT_OPEN_TIMEOUT,
  DEFAULT_SEQ_TIMEOUT,
  TCP_FLAGS,
  startCommandFor,
  type Door,
  type FirewallKind,
  type KnockdConfig,
  type Options,
  type PortSpec,
  type TcpFlag,
} from './types.js';
import {
  CLUSTER_DIRECTIVES,
  applyClusterOption,
  clusterDirectiveValues,
  finishClusterOptions,
  isClusterDirective,
  newClusterParseState,
} from './cluster-options.js';
import {
  applyRotatingDirective,
  finishRotatingDoor,
  newRotatingDoor,
  ROTATING_DIRECTIVES,
  type RotatingDirective,
} from './rotating-door.js';

export interface ConfigParse {
  /** Best effort: every line that could be understood is applied, even when there are errors. */
  config: KnockdConfig;
  /** Every problem found, errors and warnings, in line order. */
  issues: Issue[];
}

/** The directives of `[options]`, canonical spelling (knockd's man page), extensions last. */
export const OPTIONS_DIRECTIVES = [
  'UseSyslog',
  'LogFile',
  'PidFile',
  'Interface',
  'Firewall',
  'Trusted_File',
  'Control_Socket',
  'Metrics_Listen',
  ...CLUSTER_DIRECTIVES,
] as const;

/** The directives of a door, canonical spelling, aliases included, extensions last. */
export const DOOR_DIRECTIVES = [
  'Sequence',
  'One_Time_Sequences',
  'Seq_Timeout',
  'Timeout',
  'TCPFlags',
  'Start_Command',
  'Command',
  'Start_Command_6',
  'Command_6',
  'Cmd_Timeout',
  'Stop_Command',
  'Stop_Command_6',
  'Target',
  'Open_Ports',
  'Open_Timeout',
  'Ban',
  'Revoke',
  ...ROTATING_DIRECTIVES,
] as const;

/** Directives knockd 0.8 rejects: a config that uses one needs knock-server. */
export const EXTENSION_DIRECTIVES = [
  'Firewall',
  'Trusted_File',
  'Control_Socket',
  'Metrics_Listen',
  'Open_Ports',
  'Open_Timeout',
  'Ban',
  'Revoke',
  ...CLUSTER_DIRECTIVES,
  ...ROTATING_DIRECTIVES,
] as const;

/** Values run by /bin/sh, where `# …` is the shell's comment: not an inline comment of the file. */
const COMMAND_DIRECTIVES: ReadonlySet<string> = new Set([
  'Start_Command',
  'Command',
  'Start_Command_6',
  'Command_6',
  'Stop_Command',
  'Stop_Command_6',
]);

/** knockd reads lines with fgets(…, PATH_MAX): a longer line is cut in two. */
const MAX_LINE_BYTES = 4095;
/** knockd keeps 127 bytes of a door name. */
const MAX_DOOR_NAME_BYTES = 127;
/** knockd expands commands into a PATH_MAX buffer. */
const MAX_COMMAND_BYTES = 4096;
/** The longest text inet_ntop gives for an address (IPv6, 39 characters). */
const MAX_ADDRESS_TEXT = 39;
/** knockd stores timeouts from atoi(), an int. */
const MAX_SECONDS = 2_147_483_647;
/** One year: the longest Open_Timeout or Ban the built-in firewall accepts. */
const MAX_FIREWALL_SECONDS = 31_536_000;

// knockd upper-cases with toupper() in the C locale: ASCII only ('ſ'.toUpperCase() is 'S').
const asciiUpper = (s: string): string => s.replace(/[a-z]/g, (c) => c.toUpperCase());

function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(key, asciiUpper(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

const canonicalKey = (upper: string, list: readonly string[]): string | undefined =>
  list.find((k) => asciiUpper(k) === upper);

// ---------------------------------------------------------------------------------------------
// IP literals. knockd compares Target as *text* with inet_ntoa()/inet_ntop() of the packet's
// destination, so only the canonical spelling can ever match.

function parseIPv4(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

function parseIPv6(text: string): number[] | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = [((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0)];
    head = text.slice(0, lastColon + 1);
    // 'a:b:1.2.3.4' → 'a:b'; '::1.2.3.4' keeps its '::'.
    if (!head.endsWith('::') && head.endsWith(':')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0] ?? '');
  const right = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!left || !right) return undefined;
  const given = left.length + right.length + tail.length;
  if (halves.length === 2) {
    if (given > 7) return undefined;
    return [...left, ...Array<number>(8 - given).fill(0), ...right, ...tail];
  }
  return given === 8 ? [...left, ...tail] : undefined;
}

/**
 * The spelling knockd's string comparison needs for an IP literal (inet_ntoa / inet_ntop),
 * or undefined when `text` is not an IP address at all.
 */
export function canonicalIp(text: string): { family: 4 | 6; text: string } | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, text: v4.join('.') };
  const v6 = parseIPv6(text);
  if (v6) return { family: 6, text: formatIpv6Words(v6) };
  return undefined;
}

// ---------------------------------------------------------------------------------------------

interface DoorState {
  door: Door;
  sequenceLine?: number;
  otsLine?: number;
  seqTimeoutLine?: number;
  cmdTimeoutLine?: number;
  stopCommandLine?: number;
  stopCommand6Line?: number;
  openTimeoutLine?: number;
  /** Set even when the value had errors: what depends on it is not reported again. */
  openPortsLine?: number;
  /** A One_Time_Sequences line whose value had errors (no "empty knock sequence" then). */
  otsFailedLine?: number;
  banLine?: number;
}

/** The directive names knockd would accept in `[options]` (for "belongs in …" hints). */
const optionsUpper = OPTIONS_DIRECTIVES.map(asciiUpper);
const doorUpper = DOOR_DIRECTIVES.map(asciiUpper);

/**
 * Parses a knockd.conf (knockd 0.8 syntax plus knock's extensions) the way knockd reads it,
 * and reports as issues both what knockd rejects and what it silently misreads. Never throws.
 */
export function parseConfig(text: string, file?: string): ConfigParse {
  const issues: Issue[] = [];
  const options: Options = { useSyslog: false };
  const doors: Door[] = [];
  const states: DoorState[] = [];
  const cluster = newClusterParseState();
  // Door name → first door of that name: one lookup per header, however many doors.
  const byName = new Map<string, Door>();
  const revokes = new Map<Door, RevokeRef[]>();

  const report = (
    severity: Issue['severity'],
    code: string,
    line: number,
    column: number,
    message: string,
    hint?: string,
  ): void => {
    const issue: Issue = { severity, code, message, line, column };
    if (hint !== undefined) issue.hint = hint;
    if (file !== undefined) issue.file = file;
    issues.push(issue);
  };
  const error = (code: string, line: number, column: number, message: string, hint?: string) =>
    report('error', code, line, column, message, hint);
  const warning = (code: string, line: number, column: number, message: string, hint?: string) =>
    report('warning', code, line, column, message, hint);

  // 'none' before the first header; knockd keeps the last section name, so several
  // [options] sections and doors may alternate.
  let section: 'none' | 'options' | DoorState = 'none';

  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  lines.forEach((original, index) => {
    const lineNo = index + 1;
    let raw = original;
    if (index === 0 && raw.startsWith('\uFEFF')) {
      error(
        'config.bom',
        1,
        1,
        'the file starts with a byte-order mark, which knockd reads as text: it rejects the first line',
        'save the file as UTF-8 without a BOM',
      );
      raw = raw.slice(1);
    }
    const nul = raw.indexOf('\0');
    if (nul >= 0) {
      error(
        'config.line.nul',
        lineNo,
        nul + 1,
        'NUL byte in the line: knockd ignores everything after it',
        'remove the NUL byte (the file may be binary or UTF-16)',
      );
      raw = raw.slice(0, nul);
    }
    if (raw.length * 3 > MAX_LINE_BYTES && utf8Length(raw) > MAX_LINE_BYTES) {
      error(
        'config.line.tooLong',
        lineNo,
        0,
        `line is ${utf8Length(raw)} bytes long: knockd reads at most ${MAX_LINE_BYTES} bytes per line and cuts it in two`,
        'shorten it, e.g. move a long command into a script and call the script',
      );
    }

    const lead = leadingSpace(raw);
    const content = cTrim(raw);
    if (content === '' || content.startsWith('#')) return;

    // Section header.
    if (content.startsWith('[') && content.endsWith(']') && content.length >= 2) {
      const name = content.slice(1, -1);
      if (name === '') {
        error(
          'config.section.empty',
          lineNo,
          lead + 1,
          'bad section name: [] has no name',
          'write [options] or a door name, e.g. [openSSH]',
        );
        return;
      }
      if (name === 'options') {
        section = 'options';
        return;
      }
      if (cTrim(name).toLowerCase() === 'options') {
        warning(
          'config.section.optionsCase',
          lineNo,
          lead + 1,
          `[${name}] is a door named '${name}', not the options section: knockd recognises only [options], exactly, in lower case`,
          'write [options]',
        );
      }
      if (utf8Length(name) > MAX_DOOR_NAME_BYTES) {
        warning(
          'config.door.nameTooLong',
          lineNo,
          lead + 2,
          `door name is longer than ${MAX_DOOR_NAME_BYTES} bytes: knockd cuts it in its logs`,
          'use a shorter name',
        );
      }
      const same = byName.get(name);
      if (same) {
        warning(
          'config.door.duplicate',
          lineNo,
          lead + 1,
          `door '${name}' is also defined at line ${same.line}: the two are separate doors with the same name in the logs`,
          'rename one of them',
        );
      }
      const door: Door = {
        name,
        line: lineNo,
        sequence: [],
        seqTimeout: DEFAULT_SEQ_TIMEOUT,
        tcpFlags: {},
        cmdTimeout: DEFAULT_CMD_TIMEOUT,
      };
      const state: DoorState = { door };
      if (!same) byName.set(name, door);
      doors.push(door);
      states.push(state);
      section = state;
      return;
    }

    // `[ssh]   # comment`: knockd reads the whole line as a directive and rejects it.
    const header = /^\[[^\]]*\]([ \t\v\f\r]*)#/.exec(content);
    if (header) {
      inlineComment(lineNo, lead + header[0].length, 'a section header');
      return;
    }

    // Directive.
    const keyColumn = lead + 1;
    if (section === 'none') {
      error(
        'config.directive.outsideSection',
        lineNo,
        keyColumn,
        'directive before any section: knockd requires every directive to belong to a section',
        'put it under [options] or under a door header such as [openSSH]',
      );
      return;
    }
    const eq = content.indexOf('=');
    const rawKey = eq < 0 ? content : content.slice(0, eq);
    const keyText = cTrim(rawKey);
    const key = asciiUpper(keyText);

    if (eq < 0) {
      // `UseSyslog   # comment`
      const bare = /^(.*?)[ \t\v\f\r]+#/.exec(keyText);
      const bareKey = bare ? asciiUpper(cTrim(bare[1] ?? '')) : undefined;
      if (
        bare &&
        bareKey !== undefined &&
        (bareKey === 'USESYSLOG' ||
          canonicalKey(bareKey, [...OPTIONS_DIRECTIVES, ...DOOR_DIRECTIVES]))
      ) {
        inlineComment(
          lineNo,
          keyColumn + (bare[0]?.length ?? 1) - 1,
          canonicalKey(bareKey, OPTIONS_DIRECTIVES) ??
            canonicalKey(bareKey, DOOR_DIRECTIVES) ??
            'UseSyslog',
        );
        if (bareKey === 'USESYSLOG') options.useSyslog = true;
        return;
      }
      if (key === 'USESYSLOG') {
        options.useSyslog = true;
        return;
      }
      const known = canonicalKey(key, section === 'options' ? OPTIONS_DIRECTIVES : DOOR_DIRECTIVES);
      if (known) {
        error(
          'config.directive.noValue',
          lineNo,
          keyColumn,
          `${known} needs a value`,
          `write ${known} = VALUE`,
        );
      } else {
        unknownDirective(keyText, key, lineNo, keyColumn, true);
      }
      return;
    }

    const rawValue = content.slice(eq + 1);
    const valueColumn = lead + eq + 2 + leadingSpace(rawValue);
    let value = cTrim(rawValue);
    // `Open_Ports = 22/tcp   # ssh`: knockd takes the comment as part of the value. Said once,
    // for every directive but the commands (where the shell reads # as a comment); the value
    // before it is then used, so nothing else on the line is reported twice.
    const known = canonicalKey(key, section === 'options' ? OPTIONS_DIRECTIVES : DOOR_DIRECTIVES);
    const hash = /(?:^|[ \t\v\f\r])#/.exec(value);
    if (known !== undefined && hash && !COMMAND_DIRECTIVES.has(known)) {
      inlineComment(lineNo, valueColumn + hash.index + hash[0].length - 1, known);
      value = cTrim(value.slice(0, hash.index));
    }

    if (key === 'USESYSLOG') {
      error(
        'config.useSyslog.value',
        lineNo,
        keyColumn,
        'UseSyslog takes no value: knockd rejects "UseSyslog = …" as a syntax error',
        'write UseSyslog alone on its line (remove the line to log without syslog)',
      );
      return;
    }

    if (section === 'options') {
      if (!known) {
        unknownDirective(keyText, key, lineNo, keyColumn, false);
        return;
      }
      applyOption(known, value, lineNo, valueColumn);
      return;
    }

    if (!known) {
      unknownDirective(keyText, key, lineNo, keyColumn, false);
      return;
    }
    applyDoor(section, known, value, lineNo, valueColumn);
  });

  for (const state of states) finishDoor(state);
  resolveRevokes(doors, revokes, error, warning);
  finishClusterOptions(options, cluster, report);

  // Line order (stable: issues of one line keep the order they were found in).
  issues.sort((a, b) => a.line - b.line);
  return { config: { options, doors }, issues };

  // -------------------------------------------------------------------------------------------

  function inlineComment(line: number, column: number, what: string): void {
    error(
      'config.inlineComment',
      line,
      column,
      `knockd.conf has no inline comments: knockd reads this # and what follows as part of ${what === 'a section header' ? what : `the ${what} line`}`,
      'put the comment on its own line, starting with #',
    );
  }

  function unknownDirective(
    keyText: string,
    key: string,
    line: number,
    column: number,
    bare: boolean,
  ): void {
    const inOptions = section === 'options';
    const current = section === 'none' || section === 'options' ? undefined : section.door;
    if (keyText === '') {
      error(
        'config.directive.noKey',
        line,
        column,
        'missing directive name before "="',
        'write Directive = value',
      );
      return;
    }
    if (!inOptions && optionsUpper.includes(key)) {
      const name = canonicalKey(key, OPTIONS_DIRECTIVES) ?? keyText;
      if (current && cTrim(current.name).toLowerCase() === 'options') {
        error(
          'config.directive.optionsInDoor',
          line,
          column,
          `${name} is not valid here: [${current.name}] (line ${current.line}) is a door, not the options section, because knockd recognises only [options] exactly, in lower case`,
          `write the header as [options]`,
        );
      } else {
        error(
          'config.directive.optionsInDoor',
          line,
          column,
          `${name} belongs in [options], not in door '${current?.name ?? ''}'`,
          `move it under an [options] header`,
        );
      }
      return;
    }
    if (inOptions && doorUpper.includes(key)) {
      const name = canonicalKey(key, DOOR_DIRECTIVES) ?? keyText;
      error(
        'config.directive.doorInOptions',
        line,
        column,
        `${name} belongs in a door section, not in [options]`,
        'start a door with a header such as [openSSH] above it',
      );
      return;
    }
    const list = inOptions ? OPTIONS_DIRECTIVES : DOOR_DIRECTIVES;
    const guess = closest(key, list);
    const where = inOptions ? '[options]' : 'a door';
    error(
      'config.directive.unknown',
      line,
      column,
      bare
        ? `"${keyText}" is not a directive (expected Directive = value): knockd rejects the line as a syntax error`
        : `unknown directive "${keyText}" in ${where}: knockd rejects the line as a syntax error`,
      guess ? `did you mean ${guess}?` : `directives in ${where}: ${list.join(', ')}`,
    );
  }

  // nftables refuses set timeouts this long; a longer grant or ban is meant as "forever".
  function firewallTooLong(
    name: string,
    value: string,
    line: number,
    column: number,
    instead: string,
  ): void {
    error(
      'config.seconds.firewallRange',
      line,
      column,
      `${name} = ${value} is longer than a year, which the kernel's firewall sets cannot hold`,
      `write at most ${MAX_FIREWALL_SECONDS} seconds, or ${instead}`,
    );
  }

  function seconds(
    name: string,
    value: string,
    line: number,
    column: number,
    example: number,
  ): number | undefined {
    if (/^\+?\d+$/.test(value)) {
      const n = Number(value);
      if (n <= MAX_SECONDS) return n;
      error(
        'config.seconds.range',
        line,
        column,
        `${name} = ${value} is too large`,
        `write at most ${MAX_SECONDS} seconds`,
      );
      return undefined;
    }
    if (value === '') {
      error(
        'config.value.empty',
        line,
        column,
        `${name} has no value: knockd reads it as 0`,
        `write a number of seconds, e.g. ${name} = ${example}`,
      );
      return undefined;
    }
    const prefix = /^[+-]?\d+/.exec(value)?.[0];
    if (prefix !== undefined && prefix.startsWith('-')) {
      error(
        'config.seconds.negative',
        line,
        column,
        `${name} = ${value} is negative`,
        `write a number of seconds (0 or more), e.g. ${name} = ${example}`,
      );
      return undefined;
    }
    if (prefix !== undefined) {
      const n = Number(prefix);
      error(
        'config.seconds.trailing',
        line,
        column + prefix.length,
        `"${value}" is not a whole number of seconds: knockd reads it as ${n} and ignores the rest`,
        `write ${name} = ${n} (seconds; knockd has no units and no inline comments)`,
      );
      return n <= MAX_SECONDS ? n : undefined;
    }
    error(
      'config.seconds.notNumeric',
      line,
      column,
      `"${value}" is not a number of seconds: knockd reads it as 0`,
      `write a number of seconds, e.g. ${name} = ${example}`,
    );
    return undefined;
  }

  function nonEmpty(name: string, value: string, line: number, column: number, what: string) {
    if (value !== '') return true;
    error('config.value.empty', line, column, `${name} has no value`, `write ${name} = ${what}`);
    return false;
  }

  function applyOption(name: string, value: string, line: number, column: number): void {
    switch (name) {
      case 'LogFile':
        if (value === '') {
          warning(
            'config.value.empty',
            line,
            column,
            'LogFile has no value: nothing is logged to a file',
            'remove the line, or write LogFile = /var/log/knockd.log',
          );
          delete options.logFile;
        } else options.logFile = value;
        return;
      case 'PidFile':
        if (nonEmpty(name, value, line, column, '/var/run/knockd.pid')) options.pidFile = value;
        return;
      case 'Interface': {
        if (!nonEmpty(name, value, line, column, 'eth0')) return;
        let offset = 0;
        let ok = true;
        for (const part of value.split(',')) {
          const partColumn = column + offset + leadingSpace(part);
          offset += part.length + 1;
          const nameText = cTrim(part);
          if (nameText === '' || /[\s/]/.test(nameText) || nameText.length > 15) {
            ok = false;
            error(
              'config.interface.invalid',
              line,
              partColumn,
              nameText === ''
                ? 'empty interface name in the list'
                : `"${nameText}" is not an interface name`,
              'write an interface name such as eth0 (several: eth0,wlan0)',
            );
          }
        }
        if (ok)
          options.interface = value
            .split(',')
            .map((p) => cTrim(p))
            .join(',');
        return;
      }
      case 'Firewall': {
        const kind = value.toLowerCase();
        if (kind === 'nftables' || kind === 'iptables' || kind === 'none') {
          options.firewall = kind as FirewallKind;
        } else {
          error(
            'config.firewall.invalid',
            line,
            column,
            value === '' ? 'Firewall has no value' : `unknown firewall "${value}"`,
            'write Firewall = nftables, iptables or none',
          );
        }
        return;
      }
      case 'Trusted_File':
        if (nonEmpty(name, value, line, column, '/etc/knockd.trusted')) options.trustedFile = value;
        return;
      case 'Control_Socket':
        if (!nonEmpty(name, value, line, column, '/run/knock-server.sock (or none)')) return;
        if (value.toLowerCase() === 'none') options.controlSocket = 'none';
        else if (value.startsWith('/')) options.controlSocket = value;
        else
          error(
            'config.controlSocket.invalid',
            line,
            column,
            `Control_Socket = ${value} is not an absolute path`,
            'write Control_Socket = /run/knock-server.sock, or Control_Socket = none',
          );
        return;
      case 'Metrics_Listen': {
        if (!nonEmpty(name, value, line, column, '127.0.0.1:9742')) return;
        const problem = metricsListenProblem(value);
        if (problem === undefined) options.metricsListen = value;
        else
          error(
            'config.metricsListen.invalid',
            line,
            column,
            `Metrics_Listen = ${value}: ${problem}`,
            'write Metrics_Listen = 127.0.0.1:9742, [::1]:9742 or /run/knock-server-metrics.sock',
          );
        return;
      }
      default:
        if (isClusterDirective(name))
          applyClusterOption(options, cluster, name, value, line, column, report);
        return;
    }
  }

  function applyDoor(
    state: DoorState,
    name: string,
    value: string,
    line: number,
    column: number,
  ): void {
    const door = state.door;
    switch (name) {
      case 'Sequence': {
        if (state.otsLine !== undefined) {
          error(
            'config.sequence.afterOneTime',
            line,
            column,
            `Sequence after One_Time_Sequences (line ${state.otsLine}) in door '${door.name}': knockd uses this sequence once, then switches to the file`,
            'keep only one of Sequence and One_Time_Sequences',
          );
          delete door.oneTimeSequences;
          delete state.otsLine;
        } else if (state.sequenceLine !== undefined) {
          warning(
            'config.sequence.replaced',
            line,
            column,
            `a second Sequence in door '${door.name}' replaces the one at line ${state.sequenceLine}`,
            'keep only one Sequence line',
          );
        }
        state.sequenceLine = line;
        const parsed = parseSequence(
          value,
          file === undefined ? { line, column } : { file, line, column },
        );
        issues.push(...parsed.issues);
        door.sequence = parsed.knocks;
        return;
      }
      case 'One_Time_Sequences': {
        if (!nonEmpty(name, value, line, column, '/etc/knockd/ssh.ots')) {
          state.otsFailedLine = line;
          return;
        }
        const previous = state.otsLine ?? state.sequenceLine;
        if (previous !== undefined) {
          warning(
            'config.sequence.replaced',
            line,
            column,
            `One_Time_Sequences in door '${door.name}' replaces the ${state.otsLine !== undefined ? 'One_Time_Sequences' : 'Sequence'} at line ${previous}`,
            'keep only one of Sequence and One_Time_Sequences',
          );
        }
        delete state.sequenceLine;
        state.otsLine = line;
        door.sequence = [];
        door.oneTimeSequences = value;
        return;
      }
      case 'Seq_Timeout':
      case 'Timeout': {
        const n = seconds(name, value, line, column, DEFAULT_SEQ_TIMEOUT);
        if (n !== undefined) {
          door.seqTimeout = n;
          state.seqTimeoutLine = line;
        }
        return;
      }
      case 'Cmd_Timeout': {
        const n = seconds(name, value, line, column, DEFAULT_CMD_TIMEOUT);
        if (n !== undefined) {
          door.cmdTimeout = n;
          state.cmdTimeoutLine = line;
        }
        return;
      }
      case 'TCPFlags':
        tcpFlags(door, value, line, column);
        return;
      case 'Start_Command':
      case 'Command':
        if (value === '')
          warning(
            'config.command.empty',
            line,
            column,
            `${name} is empty: the door runs no command`,
            `write ${name} = COMMAND (with %IP% for the knocker's address), or remove the line`,
          );
        door.startCommand = value;
        return;
      case 'Start_Command_6':
      case 'Command_6':
        // Empty is meaningful: IPv6 knockers run nothing instead of falling back to Start_Command.
        door.startCommand6 = value;
        return;
      case 'Stop_Command':
        if (value === '')
          warning(
            'config.command.empty',
            line,
            column,
            'Stop_Command is empty: no command runs after Cmd_Timeout',
            'write Stop_Command = COMMAND, or remove the line',
          );
        door.stopCommand = value;
        state.stopCommandLine = line;
        return;
      case 'Stop_Command_6':
        door.stopCommand6 = value;
        state.stopCommand6Line = line;
        return;
      case 'Target': {
        if (!nonEmpty(name, value, line, column, '192.0.2.2')) return;
        const ip = canonicalIp(value);
        if (!ip) {
          error(
            'config.target.invalid',
            line,
            column,
            `Target "${value}" is not an IP address: knockd compares Target as text with each packet's destination address, so it would never match`,
            'write the IP address the knocks are sent to, e.g. Target = 192.0.2.2',
          );
          return;
        }
        if (ip.text !== value) {
          error(
            'config.target.notCanonical',
            line,
            column,
            `Target "${value}" is not written the way knockd prints addresses, and knockd compares Target as text: it would never match`,
            `write Target = ${ip.text}`,
          );
        }
        door.target = ip.text;
        return;
      }
      case 'Open_Ports':
        state.openPortsLine = line;
        openPorts(door, value, line, column);
        return;
      case 'Open_Timeout': {
        const n = seconds(name, value, line, column, DEFAULT_OPEN_TIMEOUT);
        if (n === 0) {
          error(
            'config.openTimeout.zero',
            line,
            column,
            'Open_Timeout = 0 would close the ports as soon as they open',
            `write the seconds a grant lasts, e.g. Open_Timeout = ${DEFAULT_OPEN_TIMEOUT}`,
          );
        } else if (n !== undefined && n > MAX_FIREWALL_SECONDS) {
          firewallTooLong(name, value, line, column, 'Open_Timeout = 86400');
        } else if (n !== undefined) {
          door.openTimeout = n;
          state.openTimeoutLine = line;
        }
        return;
      }
      case 'Revoke':
        revokes.set(door, [
          ...(revokes.get(door) ?? []),
          ...parseRevokeValue(value, line, column, error, warning),
        ]);
        return;
      case 'Ban': {
        const n = seconds(name, value, line, column, 3600);
        if (n !== undefined && n > MAX_FIREWALL_SECONDS) {
          firewallTooLong(name, value, line, column, 'Ban = 0 (until flushed)');
        } else if (n !== undefined) {
          door.ban = n;
          state.banLine = line;
        }
        return;
      }
      default:
        if ((ROTATING_DIRECTIVES as readonly string[]).includes(name))
          applyRotatingDirective(
            door.name,
            (door.rotating ??= newRotatingDoor()),
            name as RotatingDirective,
            value,
            line,
            column,
            error,
          );
    }
  }

  function tcpFlags(door: Door, value: string, line: number, column: number): void {
    if (value === '') {
      error(
        'config.tcpFlags.empty',
        line,
        column,
        'TCPFlags has no value: knockd rejects it (unrecognized flag "")',
        'write TCPFlags = syn (or remove the line: without TCPFlags any TCP packet counts)',
      );
      return;
    }
    const tokens = value.split(',');
    const fixed = tokens.map((t) => t.replace(/[ \t\v\f\r\n]+/g, '')).join(',');
    const flagOf = (token: string): { flag: TcpFlag; set: boolean } | undefined => {
      const upper = asciiUpper(token);
      const set = !upper.startsWith('!');
      const name = (set ? upper : upper.slice(1)).toLowerCase();
      return (TCP_FLAGS as readonly string[]).includes(name)
        ? { flag: name as TcpFlag, set }
        : undefined;
    };
    const fixable = tokens.every((t) => flagOf(t.replace(/[ \t\v\f\r\n]+/g, '')) !== undefined);
    let offset = 0;
    const here = new Map<TcpFlag, boolean>();
    for (const token of tokens) {
      const tokenColumn = column + offset;
      offset += token.length + 1;
      const exact = flagOf(token);
      const said = exact && here.get(exact.flag);
      if (exact && said !== undefined && said !== exact.set)
        warning(
          'config.tcpFlags.contradiction',
          line,
          tokenColumn,
          `TCPFlags asks for ${exact.flag} both set and not set: no packet can be both, so this door can never open`,
          `keep one of ${exact.flag} and !${exact.flag}`,
        );
      if (exact) {
        here.set(exact.flag, exact.set);
        door.tcpFlags[exact.flag] = exact.set;
        continue;
      }
      const squeezed = flagOf(token.replace(/[ \t\v\f\r\n]+/g, ''));
      if (token === '') {
        error(
          'config.tcpFlags.emptyFlag',
          line,
          tokenColumn,
          'empty flag in TCPFlags (a doubled or trailing comma): knockd rejects it (unrecognized flag "")',
          fixable
            ? `write TCPFlags = ${tokens.filter((t) => t !== '').join(',')}`
            : 'remove the extra comma',
        );
      } else if (squeezed) {
        door.tcpFlags[squeezed.flag] = squeezed.set;
        error(
          'config.tcpFlags.spaces',
          line,
          tokenColumn,
          `knockd does not trim TCPFlags: it rejects "${token}" (unrecognized flag "${asciiUpper(token)}")`,
          fixable
            ? `write TCPFlags = ${fixed}`
            : 'write the flags without spaces, e.g. TCPFlags = syn,!ack',
        );
      } else {
        error(
          'config.tcpFlags.unknown',
          line,
          tokenColumn,
          `unrecognized flag "${token}" in TCPFlags`,
          'flags are fin, syn, rst, psh, ack, urg, each optionally prefixed with ! (no spaces), e.g. TCPFlags = syn,!ack',
        );
      }
    }
  }

  function openPorts(door: Door, value: string, line: number, column: number): void {
    if (!nonEmpty('Open_Ports', value, line, column, '22/tcp')) return;
    const ports: PortSpec[] = [];
    let offset = 0;
    for (const part of value.split(',')) {
      const partColumn = column + offset + leadingSpace(part);
      offset += part.length + 1;
      const item = cTrim(part);
      const m = /^(\d{1,5})(?:[ \t\v\f\r]*\/[ \t\v\f\r]*([A-Za-z]+))?$/.exec(item);
      const proto = m?.[2]?.toLowerCase() ?? 'tcp';
      const port = m ? Number(m[1]) : NaN;
      if (!m || (proto !== 'tcp' && proto !== 'udp') || port < 1 || port > 65535) {
        const colon = /^(\d{1,5}):(tcp|udp)$/i.exec(item);
        error(
          'config.openPorts.invalid',
          line,
          partColumn,
          item === ''
            ? 'empty element in Open_Ports (a doubled or trailing comma)'
            : `"${item}" is not a port to open`,
          colon
            ? `write ${colon[1]}/${(colon[2] ?? '').toLowerCase()} (Open_Ports uses port/protocol)`
            : 'write ports as PORT/tcp or PORT/udp (1-65535), e.g. Open_Ports = 22/tcp,53/udp',
        );
        continue;
      }
      const spec: PortSpec = { port, protocol: proto as Protocol };
      if (ports.some((p) => p.port === spec.port && p.protocol === spec.protocol)) {
        warning(
          'config.openPorts.duplicate',
          line,
          partColumn,
          `${spec.port}/${spec.protocol} is listed twice`,
          'list each port once',
        );
        continue;
      }
      ports.push(spec);
    }
    if (ports.length > 0) door.openPorts = ports;
  }

  function finishDoor(state: DoorState): void {
    const door = state.door;
    if (door.rotating)
      finishRotatingDoor(
        door.name,
        door.line,
        door.rotating,
        state.sequenceLine ?? state.otsLine,
        error,
        warning,
      );
    else if (
      state.sequenceLine === undefined &&
      state.otsLine === undefined &&
      state.otsFailedLine === undefined
    ) {
      error(
        'config.door.emptySequence',
        door.line,
        0,
        `section '${door.name}' has an empty knock sequence`,
        cTrim(door.name).toLowerCase() === 'options'
          ? 'write the header as [options] (knockd matches it exactly, in lower case)'
          : 'add a Sequence line, e.g. Sequence = 7000,8000,9000 (or One_Time_Sequences = FILE)',
      );
    }
    if (door.openPorts && door.openTimeout === undefined) door.openTimeout = DEFAULT_OPEN_TIMEOUT;
    if (state.openTimeoutLine !== undefined && state.openPortsLine === undefined) {
      warning(
        'config.openTimeout.unused',
        state.openTimeoutLine,
        0,
        `Open_Timeout has no effect in door '${door.name}' without Open_Ports`,
        'add Open_Ports = 22/tcp, or remove Open_Timeout',
      );
    }
    if (state.banLine !== undefined && door.openPorts) {
      warning(
        'config.ban.withOpen',
        state.banLine,
        0,
        `door '${door.name}' both opens ports (Open_Ports) and bans the knocker (Ban)`,
        'use separate doors for granting and banning',
      );
    }
    if (
      state.seqTimeoutLine !== undefined &&
      door.seqTimeout === 0 &&
      (door.sequence.length > 1 || door.oneTimeSequences !== undefined)
    ) {
      warning(
        'config.seqTimeout.zero',
        state.seqTimeoutLine,
        0,
        `Seq_Timeout = 0: a sequence of more than one knock can never complete in door '${door.name}'`,
        `write the seconds allowed from the first knock to the last, e.g. Seq_Timeout = ${DEFAULT_SEQ_TIMEOUT}`,
      );
    }
    const hasStop = (door.stopCommand ?? '') !== '' || (door.stopCommand6 ?? '') !== '';
    if (state.cmdTimeoutLine !== undefined && !hasStop) {
      warning(
        'config.cmdTimeout.unused',
        state.cmdTimeoutLine,
        0,
        `Cmd_Timeout has no effect in door '${door.name}' without Stop_Command`,
        'add Stop_Command = COMMAND (run Cmd_Timeout seconds after the start command), or remove Cmd_Timeout',
      );
    }
    // knockd expands %IP% into a PATH_MAX buffer and runs neither command if one does not fit.
    for (const [key, command] of [
      ['Start_Command', door.startCommand],
      ['Start_Command_6', door.startCommand6],
      ['Stop_Command', door.stopCommand],
      ['Stop_Command_6', door.stopCommand6],
    ] as const) {
      // (%IP% grows at most 39/4 times; a line too long for knockd is reported already.)
      if (command === undefined || command.length * 10 < MAX_COMMAND_BYTES) continue;
      const longest = utf8Length(command.replaceAll('%IP%', 'x'.repeat(MAX_ADDRESS_TEXT)));
      if (longest >= MAX_COMMAND_BYTES && utf8Length(command) < MAX_LINE_BYTES - 20) {
        warning(
          'config.command.tooLong',
          door.line,
          0,
          `${key} of door '${door.name}' can expand to ${longest} bytes with an IPv6 %IP%: knockd runs neither command when one reaches ${MAX_COMMAND_BYTES} bytes`,
          'move the commands into a script and call the script with %IP%',
        );
      }
    }
    const start4 = startCommandFor(door, 4) !== undefined;
    const start6 = startCommandFor(door, 6) !== undefined;
    if (
      state.stopCommandLine !== undefined &&
      (door.stopCommand ?? '') !== '' &&
      !start4 &&
      !(start6 && door.stopCommand6 === undefined)
    ) {
      warning(
        'config.stopCommand.noStart',
        state.stopCommandLine,
        0,
        `Stop_Command never runs in door '${door.name}': knockd runs a stop command only after a start command`,
        'add Start_Command = COMMAND',
      );
    }
    if (state.stopCommand6Line !== undefined && (door.stopCommand6 ?? '') !== '' && !start6) {
      warning(
        'config.stopCommand.noStart',
        state.stopCommand6Line,
        0,
        `Stop_Command_6 never runs in door '${door.name}': knockd runs a stop command only after a start command`,
        'add Start_Command_6 = COMMAND (or Start_Command)',
      );
    }
  }
}

/** The extension directives a config uses (empty: knockd 0.8 can run it as is). */
export function extensionsUsed(config: KnockdConfig): string[] {
  const used = new Set<string>();
  if (config.options.firewall !== undefined) used.add('Firewall');
  if (config.options.trustedFile !== undefined) used.add('Trusted_File');
  if (config.options.controlSocket !== undefined) used.add('Control_Socket');
  if (config.options.metricsListen !== undefined) used.add('Metrics_Listen');
  if (config.options.interface?.includes(',')) used.add('Interface (several interfaces)');
  for (const [name] of clusterDirectiveValues(config.options)) used.add(name);
  for (const door of config.doors) {
    if (door.openPorts !== undefined) used.add('Open_Ports');
    if (door.openTimeout !== undefined) used.add('Open_Timeout');
    if (door.ban !== undefined) used.add('Ban');
    if (door.revoke !== undefined) used.add('Revoke');
    if (door.rotating !== undefined) used.add('Sequence_Secret (rotating sequences)');
  }
  return [...used];
}

/**
 * What is wrong with a `Metrics_Listen` value, or undefined: an absolute Unix socket
 * path, or HOST:PORT with an IPv4 address or a bracketed IPv6 address and a port
 * 1–65535, on loopback unless the word `public` follows (metrics on the network are
 * then what the administrator asked for).
 */
export function metricsListenProblem(value: string): string | undefined {
  if (value.startsWith('/')) return undefined;
  const [address = '', flag, ...rest] = value.split(/\s+/);
  if (rest.length > 0 || (flag !== undefined && flag.toLowerCase() !== 'public'))
    return `unexpected "${[flag, ...rest].join(' ')}" after the address (only the word public may follow it)`;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(address);
  if (match === null) return 'expected ADDRESS:PORT or an absolute socket path';
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return `port ${match[3]} is outside 1-65535`;
  const v4 = match[2];
  if (v4 !== undefined && v4.split('.').some((part) => Number(part) > 255))
    return `${v4} is not an IPv4 address`;
  const loopback = v4 !== undefined ? v4.startsWith('127.') : match[1] === '::1';
  if (!loopback && flag === undefined)
    return `${v4 ?? match[1]} is not a loopback address: anyone on the network could read the metrics (write "${address} public" if that is what you want)`;
  return undefined;
}
