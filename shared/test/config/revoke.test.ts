import { describe, expect, it } from 'vitest';
import {
  extensionsUsed,
  formatIssue,
  lintConfig,
  parseConfig,
  serializeConfig,
} from '@knock/shared';

const DOORS = `[openSSH]
    Sequence     = 7000,8000,9000
    Open_Ports   = 22/tcp
    Open_Timeout = 20
[runSSH]
    Sequence      = 7001,8001
    Start_Command = /sbin/open %IP%
    Cmd_Timeout   = 3600
    Stop_Command  = /sbin/close %IP%
`;

const parse = (text: string) => parseConfig(text, '/etc/knockd.conf');

describe('Revoke = DOOR[,DOOR…]', () => {
  it('names the doors whose grants this door takes back; an extension knockd rejects', () => {
    const text = `${DOORS}[closeSSH]\n    Sequence = 9000,8000,7000\n    Revoke   = openSSH, runSSH\n`;
    const { config, issues } = parse(text);
    expect(issues).toEqual([]);
    expect(config.doors[2]!.revoke).toEqual(['openSSH', 'runSSH']);
    expect(extensionsUsed(config)).toContain('Revoke');
    // A door that only revokes does something: no "does nothing when knocked".
    expect(lintConfig(text, config).map((i) => i.code)).not.toContain('config.door.noAction');
  });

  it('accepts any case of the key, several lines accumulate, and it round-trips', () => {
    const { config, issues } = parse(
      `${DOORS}[closeSSH]\n    Sequence = 9000\n    revoke = openSSH\n    REVOKE = runSSH\n`,
    );
    expect(issues).toEqual([]);
    expect(config.doors[2]!.revoke).toEqual(['openSSH', 'runSSH']);
    const again = parse(serializeConfig(config));
    expect(again.issues).toEqual([]);
    expect(again.config.doors[2]!.revoke).toEqual(['openSSH', 'runSSH']);
  });

  it('an unknown door is an error with file:line:column and "did you mean"', () => {
    const { issues, config } = parse(
      `${DOORS}[closeSSH]\n    Sequence = 9000\n    Revoke   = runSSH,openSHH\n`,
    );
    expect(issues).toHaveLength(1);
    const [issue] = issues;
    expect(issue).toMatchObject({
      severity: 'error',
      code: 'config.revoke.unknownDoor',
      line: 12,
      column: 23,
      hint: 'did you mean openSSH?',
    });
    expect(formatIssue(issue!)).toMatch(/^\/etc\/knockd\.conf:12:23: .*'openSHH'/);
    // What resolved still works.
    expect(config.doors[2]!.revoke).toEqual(['runSSH']);
  });

  it('a door defined after the Revoke line is found; a name far from any door lists them', () => {
    const later = parse(
      `[close]\n Sequence = 1\n Revoke = open\n[open]\n Sequence = 2\n Open_Ports = 22/tcp\n`,
    );
    expect(later.issues).toEqual([]);
    const far = parse(`${DOORS}[close]\n Sequence = 1\n Revoke = zzzzzzzzzz\n`);
    expect(far.issues[0]!.hint).toBe('doors in this file: openSSH, runSSH, close');
  });

  it('empty values and elements, a repeated name, itself, a door with nothing to take back', () => {
    const { issues } = parse(
      `${DOORS}[noop]\n Sequence = 5\n Start_Command = true\n[close]\n Sequence = 1\n Revoke =\n Revoke = openSSH,,openSSH\n Revoke = close\n Revoke = noop\n`,
    );
    expect(issues.map((i) => [i.code, i.line])).toEqual([
      ['config.value.empty', 15],
      ['config.revoke.emptyElement', 16],
      ['config.revoke.duplicate', 16],
      ['config.revoke.self', 17],
      ['config.revoke.nothing', 18],
    ]);
  });

  it('belongs in a door: in [options] it is an error', () => {
    const { issues } = parse(`[options]\n Revoke = openSSH\n${DOORS}`);
    expect(issues.map((i) => i.code)).toEqual(['config.directive.doorInOptions']);
  });
});
