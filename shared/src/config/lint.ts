/**
 * Warnings about configs that parse but can never work as written (knockd runs them
 * silently): a door that does nothing, two doors with the same sequence (or the same
 * one-time-sequences file), TCPFlags on a
 * door whose knocks are all UDP, door names that differ only in case, [options] twice.
 * `knock-server check` reports them; `check --strict` fails on them. Linear in the size
 * of the config (one map lookup per door).
 */
import { cTrim } from '../c-text.js';
import type { Issue } from '../errors.js';
import { formatSequence } from '../sequence.js';
import type { Door, KnockdConfig } from './types.js';

export function lintConfig(text: string, config: KnockdConfig, file?: string): Issue[] {
  const issues: Issue[] = [];
  const warn = (code: string, line: number, message: string, hint: string) => {
    const issue: Issue = { severity: 'warning', code, message, hint, line, column: 0 };
    if (file !== undefined) issue.file = file;
    issues.push(issue);
  };

  let firstOptions: number | undefined;
  text.split('\n').forEach((raw, index) => {
    if (cTrim(raw) !== '[options]') return;
    if (firstOptions === undefined) firstOptions = index + 1;
    else
      warn(
        'config.options.repeated',
        index + 1,
        `a second [options] section (the first is at line ${firstOptions}): a directive in both takes the later value`,
        'keep one [options] section',
      );
  });

  const byFoldedName = new Map<string, Door>();
  const bySequence = new Map<string, Door>();
  const byOtsFile = new Map<string, Door>();
  for (const door of config.doors) {
    const folded = door.name.toLowerCase();
    const sameName = byFoldedName.get(folded);
    if (sameName === undefined) byFoldedName.set(folded, door);
    else if (sameName.name !== door.name)
      warn(
        'config.door.caseDuplicate',
        door.line,
        `door [${door.name}] and door [${sameName.name}] (line ${sameName.line}) differ only in case: two doors whose log lines are easily confused`,
        'give the doors clearly different names (or merge them)',
      );

    if (door.sequence.length > 0 && door.oneTimeSequences === undefined) {
      const key = `${door.target ?? ''} ${formatSequence(door.sequence)}`;
      const same = bySequence.get(key);
      if (same === undefined) bySequence.set(key, door);
      else
        warn(
          'config.door.sameSequence',
          door.line,
          `door '${door.name}' has the same sequence as door '${same.name}' (line ${same.line}), ${formatSequence(door.sequence)}: the same knocks open both`,
          'give each door its own sequence',
        );
      if (Object.keys(door.tcpFlags).length > 0 && door.sequence.every((k) => k.protocol === 'udp'))
        warn(
          'config.tcpFlags.udpOnly',
          door.line,
          `TCPFlags has no effect in door '${door.name}': every knock of its sequence is UDP`,
          'remove TCPFlags, or knock over TCP',
        );
    }

    if (door.oneTimeSequences !== undefined) {
      const same = byOtsFile.get(door.oneTimeSequences);
      if (same === undefined) byOtsFile.set(door.oneTimeSequences, door);
      else
        warn(
          'config.door.sameOneTimeFile',
          door.line,
          `door '${door.name}' uses the one-time-sequences file of door '${same.name}' (line ${same.line}), ${door.oneTimeSequences}: the same knocks open both, and each use marks the line for both`,
          'give each door its own file (knock-server ots generate)',
        );
    }

    if (
      door.startCommand === undefined &&
      (door.startCommand6 ?? '') === '' &&
      door.openPorts === undefined &&
      door.ban === undefined
    )
      warn(
        'config.door.noAction',
        door.line,
        `door '${door.name}' does nothing when knocked: it has no Start_Command, Open_Ports or Ban`,
        'add Start_Command = COMMAND, Open_Ports = 22/tcp or Ban = SECONDS',
      );
  }
  return issues.sort((a, b) => a.line - b.line);
}
