import { KnockError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatSequence, MAX_SEQUENCE_LENGTH } from '../sequence.js';
import { DEFAULT_CMD_TIMEOUT, TCP_FLAGS, type Door, type KnockdConfig } from './types.js';
import { clusterDirectiveValues } from './cluster-options.js';
import { rotatingDirectives } from './rotating-door.js';

// What knockd's trim() would strip from a value, and what ends or cuts a line.
const C_SPACE = /[ \t\n\v\f\r]/;
const unrepresentable = (what: string, why: string): KnockError =>
  new KnockError('config.unrepresentable', `cannot write ${what} to knockd.conf: ${why}`, {
    exitCode: ExitCode.config,
  });

function checkValue(what: string, value: string, allowEmpty: boolean): string {
  if (value === '' && !allowEmpty) throw unrepresentable(what, 'it is empty');
  if (/[\n\0]/.test(value)) throw unrepresentable(what, 'it contains a line break or NUL');
  if (value !== '' && (C_SPACE.test(value[0] ?? '') || C_SPACE.test(value.at(-1) ?? ''))) {
    throw unrepresentable(what, 'knockd would trim its leading or trailing blanks');
  }
  return value;
}

const directive = (key: string, value: string): string =>
  value === '' ? `    ${key} =` : `    ${key} = ${value}`;

function doorLines(door: Door): string[] {
  const what = (field: string) => `${field} of door '${door.name}'`;
  if (door.name === '' || door.name === 'options' || /[\n\0]/.test(door.name)) {
    throw unrepresentable(`door name '${door.name}'`, 'knockd cannot read it back as a door');
  }
  const lines = [`[${door.name}]`];
  if (door.rotating !== undefined) {
    for (const [key, value] of rotatingDirectives(door.rotating))
      lines.push(directive(key, checkValue(what(key), value, false)));
  } else if (door.oneTimeSequences !== undefined) {
    if (door.sequence.length > 0) {
      throw unrepresentable(what('the sequence'), 'the door also has One_Time_Sequences');
    }
    lines.push(
      directive(
        'One_Time_Sequences',
        checkValue(what('One_Time_Sequences'), door.oneTimeSequences, false),
      ),
    );
  } else {
    if (door.sequence.length === 0) throw unrepresentable(what('the sequence'), 'it is empty');
    if (door.sequence.length > MAX_SEQUENCE_LENGTH) {
      throw unrepresentable(what('the sequence'), `knockd allows ${MAX_SEQUENCE_LENGTH} knocks`);
    }
    if (door.sequence.some((k) => !Number.isInteger(k.port) || k.port < 1 || k.port > 65535)) {
      throw unrepresentable(what('the sequence'), 'a port is outside 1-65535');
    }
    lines.push(directive('Sequence', formatSequence(door.sequence)));
  }
  lines.push(directive('Seq_Timeout', String(door.seqTimeout)));
  const flags = TCP_FLAGS.filter((f) => door.tcpFlags[f] !== undefined).map((f) =>
    door.tcpFlags[f] ? f : `!${f}`,
  );
  if (flags.length > 0) lines.push(directive('TCPFlags', flags.join(',')));
  if (door.target !== undefined)
    lines.push(directive('Target', checkValue(what('Target'), door.target, false)));
  const commands: [string, string | undefined][] = [
    ['Start_Command', door.startCommand],
    ['Start_Command_6', door.startCommand6],
    ['Stop_Command', door.stopCommand],
    ['Stop_Command_6', door.stopCommand6],
  ];
  for (const [key, value] of commands) {
    if (value !== undefined) lines.push(directive(key, checkValue(what(key), value, true)));
  }
  // Cmd_Timeout only matters with a stop command; leave the default out otherwise.
  if (
    door.cmdTimeout !== DEFAULT_CMD_TIMEOUT ||
    door.stopCommand !== undefined ||
    door.stopCommand6 !== undefined
  )
    lines.push(directive('Cmd_Timeout', String(door.cmdTimeout)));
  if (door.openPorts !== undefined) {
    if (door.openPorts.length === 0) throw unrepresentable(what('Open_Ports'), 'it is empty');
    lines.push(
      directive('Open_Ports', door.openPorts.map((p) => `${p.port}/${p.protocol}`).join(',')),
    );
  }
  if (door.openTimeout !== undefined)
    lines.push(directive('Open_Timeout', String(door.openTimeout)));
  if (door.ban !== undefined) lines.push(directive('Ban', String(door.ban)));
  if (door.revoke !== undefined) lines.push(directive('Revoke', door.revoke.join(',')));
  return lines;
}

/**
 * Writes a config as knockd.conf text. Without extension directives, knockd 0.8 itself
 * accepts the output; `parseConfig(serializeConfig(c)).config` equals `c` (door `line`s
 * aside). Throws a KnockError for a config no knockd.conf can express (an empty door,
 * a value with a line break or surrounding blanks, a door named `options`).
 */
export function serializeConfig(config: KnockdConfig): string {
  const { options } = config;
  const optionLines: string[] = [];
  if (options.useSyslog) optionLines.push('    UseSyslog');
  const values: [string, string | undefined][] = [
    ['LogFile', options.logFile],
    ['PidFile', options.pidFile],
    ['Interface', options.interface],
    ['Firewall', options.firewall],
    ['Trusted_File', options.trustedFile],
    ['Control_Socket', options.controlSocket],
    ['Metrics_Listen', options.metricsListen],
    ...clusterDirectiveValues(options),
  ];
  for (const [key, value] of values) {
    if (value !== undefined) optionLines.push(directive(key, checkValue(key, value, false)));
  }
  const blocks: string[][] = [];
  if (optionLines.length > 0) blocks.push(['[options]', ...optionLines]);
  for (const door of config.doors) blocks.push(doorLines(door));
  return blocks.map((lines) => lines.join('\n') + '\n').join('\n');
}
