// The `Revoke = DOOR[,DOOR…]` door directive (extension): completing this door takes back
// what the named doors gave the knocker (their built-in grants now, their pending stop
// command now instead of after Cmd_Timeout). Parsed here, beside parse.ts, which only hooks
// in: one call per Revoke line, one call once every door is known.
import { closest } from '../did-you-mean.js';
import type { Report } from './report.js';
import type { Door } from './types.js';

/** One name of a Revoke list, where it was written (for "unknown door" at the right column). */
export interface RevokeRef {
  name: string;
  line: number;
  column: number;
}

const blank = /^[ \t\v\f\r]+|[ \t\v\f\r]+$/g;

/**
 * Splits a Revoke value into door names (names are trimmed; knockd keeps a door name as
 * written between the brackets, so inner spaces are part of it). Reports empty elements
 * and repeated names. Returns the names to resolve once every door is read.
 */
export function parseRevokeValue(
  value: string,
  line: number,
  column: number,
  error: Report,
  warning: Report,
): RevokeRef[] {
  if (value === '') {
    error(
      'config.value.empty',
      line,
      column,
      'Revoke has no value',
      'write the doors whose grants this door takes back, e.g. Revoke = openSSH',
    );
    return [];
  }
  const refs: RevokeRef[] = [];
  let offset = 0;
  for (const part of value.split(',')) {
    const lead = /^[ \t\v\f\r]*/.exec(part)?.[0].length ?? 0;
    const at = column + offset + lead;
    offset += part.length + 1;
    const name = part.replace(blank, '');
    if (name === '') {
      error(
        'config.revoke.emptyElement',
        line,
        at,
        'empty element in Revoke (a doubled or trailing comma)',
        'write door names separated by single commas, e.g. Revoke = openSSH,openHTTPS',
      );
      continue;
    }
    if (refs.some((r) => r.name === name)) {
      warning(
        'config.revoke.duplicate',
        line,
        at,
        `door '${name}' is listed twice in Revoke`,
        'list each door once',
      );
      continue;
    }
    refs.push({ name, line, column: at });
  }
  return refs;
}

/** The door name closest to `name` (case differences count least), if close enough to be a typo. */
export function closestDoor(name: string, doors: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const caseOnly = doors.find((d) => d.toLowerCase() === lower);
  if (caseOnly !== undefined) return caseOnly;
  return closest(name, doors, (text) => text.toLowerCase());
}

/**
 * Once every door is read: each Revoke name must be a door of this file (an error with
 * "did you mean" otherwise); a door revoking itself, or a door with nothing to take back,
 * is a warning. Sets `door.revoke` to the names that resolved.
 */
export function resolveRevokes(
  doors: readonly Door[],
  refs: ReadonlyMap<Door, RevokeRef[]>,
  error: Report,
  warning: Report,
): void {
  const names = [...new Set(doors.map((d) => d.name))];
  for (const [door, list] of refs) {
    const resolved: string[] = [];
    for (const ref of list) {
      const targets = doors.filter((d) => d.name === ref.name);
      if (targets.length === 0) {
        const guess = closestDoor(ref.name, names);
        error(
          'config.revoke.unknownDoor',
          ref.line,
          ref.column,
          `Revoke names door '${ref.name}', which this file does not define`,
          guess !== undefined
            ? `did you mean ${guess}?`
            : names.length > 0
              ? `doors in this file: ${names.join(', ')}`
              : 'define the door it revokes, e.g. [openSSH] with Open_Ports = 22/tcp',
        );
        continue;
      }
      if (ref.name === door.name) {
        warning(
          'config.revoke.self',
          ref.line,
          ref.column,
          `door '${door.name}' revokes itself: what it opens is taken back at once`,
          'name the door that opens, e.g. [closeSSH] with Revoke = openSSH',
        );
      } else if (
        targets.every(
          (t) =>
            (t.openPorts?.length ?? 0) === 0 &&
            (t.stopCommand ?? '') === '' &&
            (t.stopCommand6 ?? '') === '',
        )
      ) {
        warning(
          'config.revoke.nothing',
          ref.line,
          ref.column,
          `door '${ref.name}' has neither Open_Ports nor Stop_Command: Revoke has nothing of it to take back`,
          `give door '${ref.name}' Open_Ports = 22/tcp (or a Stop_Command), or remove it from Revoke`,
        );
      }
      resolved.push(ref.name);
    }
    if (resolved.length > 0) door.revoke = resolved;
  }
}
