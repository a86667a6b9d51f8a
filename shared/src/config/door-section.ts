// A door section: its header, then one call per directive, with its canonical name.
import { cTrim } from '../c-text.js';
import { parseSequence } from '../sequence.js';
import type { Directive, DoorState, ParseContext } from './context.js';
import { canonicalIp } from './ip-literal.js';
import { MAX_DOOR_NAME_BYTES, MAX_FIREWALL_SECONDS, utf8Length } from './directives.js';
import { parseRevokeValue } from './revoke.js';
import {
  applyRotatingDirective,
  newRotatingDoor,
  ROTATING_DIRECTIVES,
  type RotatingDirective,
} from './rotating-door.js';
import {
  DEFAULT_CMD_TIMEOUT,
  DEFAULT_OPEN_TIMEOUT,
  DEFAULT_SEQ_TIMEOUT,
  type Door,
} from './types.js';
import { firewallTooLong, nonEmpty, openPorts, seconds, tcpFlags } from './values.js';

/**
 * Starts the door of header `[name]` at `lineNo` (`lead`: the blanks before the `[`) and makes
 * it the current section. The duplicate check is one map lookup, however many doors.
 */
export function openDoor(ctx: ParseContext, name: string, lineNo: number, lead: number): void {
  if (cTrim(name).toLowerCase() === 'options') {
    ctx.warning(
      'config.section.optionsCase',
      lineNo,
      lead + 1,
      `[${name}] is a door named '${name}', not the options section: knockd recognises only [options], exactly, in lower case`,
      'write [options]',
    );
  }
  if (utf8Length(name) > MAX_DOOR_NAME_BYTES) {
    ctx.warning(
      'config.door.nameTooLong',
      lineNo,
      lead + 2,
      `door name is longer than ${MAX_DOOR_NAME_BYTES} bytes: knockd cuts it in its logs`,
      'use a shorter name',
    );
  }
  const same = ctx.byName.get(name);
  if (same) {
    ctx.warning(
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
  if (!same) ctx.byName.set(name, door);
  ctx.doors.push(door);
  ctx.states.push(state);
  ctx.section = state;
}

/** Applies one door directive (its canonical name) to the door of `state`. */
export function applyDoor(ctx: ParseContext, state: DoorState, d: Directive): void {
  const door = state.door;
  const { name, value, line, column } = d;
  switch (name) {
    case 'Sequence':
      sequence(ctx, state, d);
      return;
    case 'One_Time_Sequences':
      oneTimeSequences(ctx, state, d);
      return;
    case 'Seq_Timeout':
    case 'Timeout': {
      const n = seconds(ctx, d, DEFAULT_SEQ_TIMEOUT);
      if (n !== undefined) {
        door.seqTimeout = n;
        state.seqTimeoutLine = line;
      }
      return;
    }
    case 'Cmd_Timeout': {
      const n = seconds(ctx, d, DEFAULT_CMD_TIMEOUT);
      if (n !== undefined) {
        door.cmdTimeout = n;
        state.cmdTimeoutLine = line;
      }
      return;
    }
    case 'TCPFlags':
      tcpFlags(ctx, door, d);
      return;
    case 'Start_Command':
    case 'Command':
      if (value === '')
        ctx.warning(
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
        ctx.warning(
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
    case 'Target':
      target(ctx, state, d);
      return;
    case 'Open_Ports':
      state.openPortsLine = line;
      openPorts(ctx, door, d);
      return;
    case 'Open_Timeout':
      openTimeout(ctx, state, d);
      return;
    case 'Revoke':
      ctx.revokes.set(door, [
        ...(ctx.revokes.get(door) ?? []),
        ...parseRevokeValue(value, line, column, ctx.error, ctx.warning),
      ]);
      return;
    case 'Ban':
      ban(ctx, state, d);
      return;
    default:
      if ((ROTATING_DIRECTIVES as readonly string[]).includes(name))
        applyRotatingDirective(
          door.name,
          (door.rotating ??= newRotatingDoor()),
          name as RotatingDirective,
          value,
          line,
          column,
          ctx.error,
        );
  }
}

/** Sequence = VALUE */
function sequence(ctx: ParseContext, state: DoorState, d: Directive): void {
  const door = state.door;
  const { value, line, column } = d;
  if (state.otsLine !== undefined) {
    ctx.error(
      'config.sequence.afterOneTime',
      line,
      column,
      `Sequence after One_Time_Sequences (line ${state.otsLine}) in door '${door.name}': knockd uses this sequence once, then switches to the file`,
      'keep only one of Sequence and One_Time_Sequences',
    );
    delete door.oneTimeSequences;
    delete state.otsLine;
  } else if (state.sequenceLine !== undefined) {
    ctx.warning(
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
    ctx.file === undefined ? { line, column } : { file: ctx.file, line, column },
  );
  ctx.issues.push(...parsed.issues);
  door.sequence = parsed.knocks;
}

/** One_Time_Sequences = VALUE */
function oneTimeSequences(ctx: ParseContext, state: DoorState, d: Directive): void {
  const door = state.door;
  const { value, line, column } = d;
  if (!nonEmpty(ctx, d, '/etc/knockd/ssh.ots')) {
    state.otsFailedLine = line;
    return;
  }
  const previous = state.otsLine ?? state.sequenceLine;
  if (previous !== undefined) {
    ctx.warning(
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
}

/** Target = VALUE */
function target(ctx: ParseContext, state: DoorState, d: Directive): void {
  const door = state.door;
  const { value, line, column } = d;
  if (!nonEmpty(ctx, d, '192.0.2.2')) return;
  const ip = canonicalIp(value);
  if (!ip) {
    ctx.error(
      'config.target.invalid',
      line,
      column,
      `Target "${value}" is not an IP address: knockd compares Target as text with each packet's destination address, so it would never match`,
      'write the IP address the knocks are sent to, e.g. Target = 192.0.2.2',
    );
    return;
  }
  if (ip.text !== value) {
    ctx.error(
      'config.target.notCanonical',
      line,
      column,
      `Target "${value}" is not written the way knockd prints addresses, and knockd compares Target as text: it would never match`,
      `write Target = ${ip.text}`,
    );
  }
  door.target = ip.text;
}

/** Open_Timeout = VALUE */
function openTimeout(ctx: ParseContext, state: DoorState, d: Directive): void {
  const door = state.door;
  const { line, column } = d;
  const n = seconds(ctx, d, DEFAULT_OPEN_TIMEOUT);
  if (n === 0) {
    ctx.error(
      'config.openTimeout.zero',
      line,
      column,
      'Open_Timeout = 0 would close the ports as soon as they open',
      `write the seconds a grant lasts, e.g. Open_Timeout = ${DEFAULT_OPEN_TIMEOUT}`,
    );
  } else if (n !== undefined && n > MAX_FIREWALL_SECONDS) {
    firewallTooLong(ctx, d, 'Open_Timeout = 86400');
  } else if (n !== undefined) {
    door.openTimeout = n;
    state.openTimeoutLine = line;
  }
}

/** Ban = VALUE */
function ban(ctx: ParseContext, state: DoorState, d: Directive): void {
  const n = seconds(ctx, d, 3600);
  if (n !== undefined && n > MAX_FIREWALL_SECONDS) {
    firewallTooLong(ctx, d, 'Ban = 0 (until flushed)');
  } else if (n !== undefined) {
    state.door.ban = n;
    state.banLine = d.line;
  }
}
