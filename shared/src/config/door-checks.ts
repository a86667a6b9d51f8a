// The checks made on each door once the whole file is read: what a door's directives
// mean together (a sequence at all, timeouts without what they time, stop commands that
// never run, commands too long for knockd's buffer).
import { cTrim } from '../c-text.js';
import type { DoorState, ParseContext } from './context.js';
import { MAX_ADDRESS_TEXT, MAX_COMMAND_BYTES, MAX_LINE_BYTES, utf8Length } from './directives.js';
import { finishRotatingDoor } from './rotating-door.js';
import { DEFAULT_OPEN_TIMEOUT, DEFAULT_SEQ_TIMEOUT, startCommandFor } from './types.js';

/** Completes the door of `state` (defaults that depend on other directives) and checks it. */
export function finishDoor(ctx: ParseContext, state: DoorState): void {
  checkSequence(ctx, state);
  const door = state.door;
  if (door.openPorts && door.openTimeout === undefined) door.openTimeout = DEFAULT_OPEN_TIMEOUT;
  checkUnused(ctx, state);
  checkCommandLengths(ctx, state);
  checkStopCommands(ctx, state);
}

/** A door needs a sequence (a rotating door checks its own). */
function checkSequence(ctx: ParseContext, state: DoorState): void {
  const door = state.door;
  if (door.rotating)
    finishRotatingDoor(
      door.name,
      door.line,
      door.rotating,
      state.sequenceLine ?? state.otsLine,
      ctx.error,
      ctx.warning,
    );
  else if (
    state.sequenceLine === undefined &&
    state.otsLine === undefined &&
    state.otsFailedLine === undefined
  ) {
    ctx.error(
      'config.door.emptySequence',
      door.line,
      0,
      `section '${door.name}' has an empty knock sequence`,
      cTrim(door.name).toLowerCase() === 'options'
        ? 'write the header as [options] (knockd matches it exactly, in lower case)'
        : 'add a Sequence line, e.g. Sequence = 7000,8000,9000 (or One_Time_Sequences = FILE)',
    );
  }
}

/** Directives with no effect given the rest of the door. */
function checkUnused(ctx: ParseContext, state: DoorState): void {
  const door = state.door;
  if (state.openTimeoutLine !== undefined && state.openPortsLine === undefined) {
    ctx.warning(
      'config.openTimeout.unused',
      state.openTimeoutLine,
      0,
      `Open_Timeout has no effect in door '${door.name}' without Open_Ports`,
      'add Open_Ports = 22/tcp, or remove Open_Timeout',
    );
  }
  if (state.banLine !== undefined && door.openPorts) {
    ctx.warning(
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
    ctx.warning(
      'config.seqTimeout.zero',
      state.seqTimeoutLine,
      0,
      `Seq_Timeout = 0: a sequence of more than one knock can never complete in door '${door.name}'`,
      `write the seconds allowed from the first knock to the last, e.g. Seq_Timeout = ${DEFAULT_SEQ_TIMEOUT}`,
    );
  }
  const hasStop = (door.stopCommand ?? '') !== '' || (door.stopCommand6 ?? '') !== '';
  if (state.cmdTimeoutLine !== undefined && !hasStop) {
    ctx.warning(
      'config.cmdTimeout.unused',
      state.cmdTimeoutLine,
      0,
      `Cmd_Timeout has no effect in door '${door.name}' without Stop_Command`,
      'add Stop_Command = COMMAND (run Cmd_Timeout seconds after the start command), or remove Cmd_Timeout',
    );
  }
}

/** Commands that %IP% can grow past knockd's buffer. */
function checkCommandLengths(ctx: ParseContext, state: DoorState): void {
  const door = state.door;
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
      ctx.warning(
        'config.command.tooLong',
        door.line,
        0,
        `${key} of door '${door.name}' can expand to ${longest} bytes with an IPv6 %IP%: knockd runs neither command when one reaches ${MAX_COMMAND_BYTES} bytes`,
        'move the commands into a script and call the script with %IP%',
      );
    }
  }
}

/** Stop commands that can never run, without a start command. */
function checkStopCommands(ctx: ParseContext, state: DoorState): void {
  const door = state.door;
  const start4 = startCommandFor(door, 4) !== undefined;
  const start6 = startCommandFor(door, 6) !== undefined;
  if (
    state.stopCommandLine !== undefined &&
    (door.stopCommand ?? '') !== '' &&
    !start4 &&
    !(start6 && door.stopCommand6 === undefined)
  ) {
    ctx.warning(
      'config.stopCommand.noStart',
      state.stopCommandLine,
      0,
      `Stop_Command never runs in door '${door.name}': knockd runs a stop command only after a start command`,
      'add Start_Command = COMMAND',
    );
  }
  if (state.stopCommand6Line !== undefined && (door.stopCommand6 ?? '') !== '' && !start6) {
    ctx.warning(
      'config.stopCommand.noStart',
      state.stopCommand6Line,
      0,
      `Stop_Command_6 never runs in door '${door.name}': knockd runs a stop command only after a start command`,
      'add Start_Command_6 = COMMAND (or Start_Command)',
    );
  }
}
