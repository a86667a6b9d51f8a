/**
 * knockd.conf, read the way knockd 0.8 reads it (plus knock's extensions): the line loop.
 * What each line means is in the modules beside it: directives.ts (the tables and limits),
 * options-section.ts and door-section.ts (one call per directive), values.ts (seconds,
 * TCPFlags, Open_Ports), door-checks.ts (each door once the file is read), revoke.ts,
 * rotating-door.ts and cluster-options.ts (extensions), extensions.ts (which are used).
 * Every module reports into one ParseContext (context.ts).
 */
import { cTrim, leadingSpace } from '../c-text.js';
import { closest } from '../did-you-mean.js';
import type { Issue } from '../errors.js';
import { finishClusterOptions } from './cluster-options.js';
import { newParseContext, type ParseContext } from './context.js';
import {
  asciiUpper,
  canonicalKey,
  COMMAND_DIRECTIVES,
  DOOR_DIRECTIVES,
  DOOR_UPPER,
  MAX_LINE_BYTES,
  OPTIONS_DIRECTIVES,
  OPTIONS_UPPER,
  utf8Length,
} from './directives.js';
import { finishDoor } from './door-checks.js';
import { applyDoor, openDoor } from './door-section.js';
import { applyOption } from './options-section.js';
import { resolveRevokes } from './revoke.js';
import type { KnockdConfig } from './types.js';

export { DOOR_DIRECTIVES, EXTENSION_DIRECTIVES, OPTIONS_DIRECTIVES } from './directives.js';
export { extensionsUsed } from './extensions.js';
export { canonicalIp } from './ip-literal.js';
export { metricsListenProblem } from './options-section.js';

export interface ConfigParse {
  /** Best effort: every line that could be understood is applied, even when there are errors. */
  config: KnockdConfig;
  /** Every problem found, errors and warnings, in line order. */
  issues: Issue[];
}

/**
 * Parses a knockd.conf (knockd 0.8 syntax plus knock's extensions) the way knockd reads it,
 * and reports as issues both what knockd rejects and what it silently misreads. Never throws.
 */
export function parseConfig(text: string, file?: string): ConfigParse {
  const ctx = newParseContext(file);
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  lines.forEach((original, index) => {
    const lineNo = index + 1;
    const raw = readLine(ctx, original, index);
    const lead = leadingSpace(raw);
    const content = cTrim(raw);
    if (content === '' || content.startsWith('#')) return;
    if (content.startsWith('[') && content.endsWith(']') && content.length >= 2) {
      sectionHeader(ctx, content.slice(1, -1), lineNo, lead);
      return;
    }
    // `[ssh]   # comment`: knockd reads the whole line as a directive and rejects it.
    const header = /^\[[^\]]*\]([ \t\v\f\r]*)#/.exec(content);
    if (header) {
      inlineComment(ctx, lineNo, lead + header[0].length, 'a section header');
      return;
    }
    directive(ctx, content, lineNo, lead);
  });

  for (const state of ctx.states) finishDoor(ctx, state);
  resolveRevokes(ctx.doors, ctx.revokes, ctx.error, ctx.warning);
  finishClusterOptions(ctx.options, ctx.cluster, ctx.report);

  // Line order (stable: issues of one line keep the order they were found in).
  ctx.issues.sort((a, b) => a.line - b.line);
  return { config: { options: ctx.options, doors: ctx.doors }, issues: ctx.issues };
}

/** Line `index` as knockd sees it (no BOM, cut at a NUL), reporting what knockd misreads. */
function readLine(ctx: ParseContext, original: string, index: number): string {
  const lineNo = index + 1;
  let raw = original;
  if (index === 0 && raw.startsWith('\uFEFF')) {
    ctx.error(
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
    ctx.error(
      'config.line.nul',
      lineNo,
      nul + 1,
      'NUL byte in the line: knockd ignores everything after it',
      'remove the NUL byte (the file may be binary or UTF-16)',
    );
    raw = raw.slice(0, nul);
  }
  if (raw.length * 3 > MAX_LINE_BYTES && utf8Length(raw) > MAX_LINE_BYTES) {
    ctx.error(
      'config.line.tooLong',
      lineNo,
      0,
      `line is ${utf8Length(raw)} bytes long: knockd reads at most ${MAX_LINE_BYTES} bytes per line and cuts it in two`,
      'shorten it, e.g. move a long command into a script and call the script',
    );
  }
  return raw;
}

/** `[name]`: the options section, or a new door. */
function sectionHeader(ctx: ParseContext, name: string, lineNo: number, lead: number): void {
  if (name === '') {
    ctx.error(
      'config.section.empty',
      lineNo,
      lead + 1,
      'bad section name: [] has no name',
      'write [options] or a door name, e.g. [openSSH]',
    );
    return;
  }
  if (name === 'options') {
    ctx.section = 'options';
    return;
  }
  openDoor(ctx, name, lineNo, lead);
}

/** `Key = value` (or a bare `Key`) in the current section. */
function directive(ctx: ParseContext, content: string, lineNo: number, lead: number): void {
  const section = ctx.section;
  const keyColumn = lead + 1;
  if (section === 'none') {
    ctx.error(
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
    bareDirective(ctx, keyText, key, lineNo, keyColumn);
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
    inlineComment(ctx, lineNo, valueColumn + hash.index + hash[0].length - 1, known);
    value = cTrim(value.slice(0, hash.index));
  }

  if (key === 'USESYSLOG') {
    ctx.error(
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
      unknownDirective(ctx, keyText, key, lineNo, keyColumn, false);
      return;
    }
    applyOption(ctx, { name: known, value, line: lineNo, column: valueColumn });
    return;
  }

  if (!known) {
    unknownDirective(ctx, keyText, key, lineNo, keyColumn, false);
    return;
  }
  applyDoor(ctx, section, { name: known, value, line: lineNo, column: valueColumn });
}

/** A line without `=`: UseSyslog, or a mistake. */
function bareDirective(
  ctx: ParseContext,
  keyText: string,
  key: string,
  lineNo: number,
  keyColumn: number,
): void {
  const section = ctx.section;
  // `UseSyslog   # comment`
  const bare = /^(.*?)[ \t\v\f\r]+#/.exec(keyText);
  const bareKey = bare ? asciiUpper(cTrim(bare[1] ?? '')) : undefined;
  if (
    bare &&
    bareKey !== undefined &&
    (bareKey === 'USESYSLOG' || canonicalKey(bareKey, [...OPTIONS_DIRECTIVES, ...DOOR_DIRECTIVES]))
  ) {
    inlineComment(
      ctx,
      lineNo,
      keyColumn + (bare[0]?.length ?? 1) - 1,
      canonicalKey(bareKey, OPTIONS_DIRECTIVES) ??
        canonicalKey(bareKey, DOOR_DIRECTIVES) ??
        'UseSyslog',
    );
    if (bareKey === 'USESYSLOG') ctx.options.useSyslog = true;
    return;
  }
  if (key === 'USESYSLOG') {
    ctx.options.useSyslog = true;
    return;
  }
  const known = canonicalKey(key, section === 'options' ? OPTIONS_DIRECTIVES : DOOR_DIRECTIVES);
  if (known) {
    ctx.error(
      'config.directive.noValue',
      lineNo,
      keyColumn,
      `${known} needs a value`,
      `write ${known} = VALUE`,
    );
  } else {
    unknownDirective(ctx, keyText, key, lineNo, keyColumn, true);
  }
}

/** knockd.conf has no inline comments: `what` reads the # as part of its value. */
function inlineComment(ctx: ParseContext, line: number, column: number, what: string): void {
  ctx.error(
    'config.inlineComment',
    line,
    column,
    `knockd.conf has no inline comments: knockd reads this # and what follows as part of ${what === 'a section header' ? what : `the ${what} line`}`,
    'put the comment on its own line, starting with #',
  );
}

/** A directive this section does not know: misplaced, a typo ("did you mean"), or no key. */
function unknownDirective(
  ctx: ParseContext,
  keyText: string,
  key: string,
  line: number,
  column: number,
  bare: boolean,
): void {
  const section = ctx.section;
  const inOptions = section === 'options';
  const current = section === 'none' || section === 'options' ? undefined : section.door;
  if (keyText === '') {
    ctx.error(
      'config.directive.noKey',
      line,
      column,
      'missing directive name before "="',
      'write Directive = value',
    );
    return;
  }
  if (!inOptions && OPTIONS_UPPER.includes(key)) {
    const name = canonicalKey(key, OPTIONS_DIRECTIVES) ?? keyText;
    if (current && cTrim(current.name).toLowerCase() === 'options') {
      ctx.error(
        'config.directive.optionsInDoor',
        line,
        column,
        `${name} is not valid here: [${current.name}] (line ${current.line}) is a door, not the options section, because knockd recognises only [options] exactly, in lower case`,
        `write the header as [options]`,
      );
    } else {
      ctx.error(
        'config.directive.optionsInDoor',
        line,
        column,
        `${name} belongs in [options], not in door '${current?.name ?? ''}'`,
        `move it under an [options] header`,
      );
    }
    return;
  }
  if (inOptions && DOOR_UPPER.includes(key)) {
    const name = canonicalKey(key, DOOR_DIRECTIVES) ?? keyText;
    ctx.error(
      'config.directive.doorInOptions',
      line,
      column,
      `${name} belongs in a door section, not in [options]`,
      'start a door with a header such as [openSSH] above it',
    );
    return;
  }
  const list = inOptions ? OPTIONS_DIRECTIVES : DOOR_DIRECTIVES;
  const guess = closest(key, list, asciiUpper);
  const where = inOptions ? '[options]' : 'a door';
  ctx.error(
    'config.directive.unknown',
    line,
    column,
    bare
      ? `"${keyText}" is not a directive (expected Directive = value): knockd rejects the line as a syntax error`
      : `unknown directive "${keyText}" in ${where}: knockd rejects the line as a syntax error`,
    guess ? `did you mean ${guess}?` : `directives in ${where}: ${list.join(', ')}`,
  );
}
