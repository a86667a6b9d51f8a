/**
 * Issue 9 item 4: knockd.conf has no inline comments. A trailing `# …` gets that one
 * message on every directive (UseSyslog included, and a section header), and the value
 * before it is used, so no second, wrong issue follows (`Open_Timeout has no effect …
 * without Open_Ports`).
 */
import { describe, expect, it } from 'vitest';
import { DOOR_DIRECTIVES, OPTIONS_DIRECTIVES, parseConfig } from '@knock/shared';

const SAMPLE: Record<string, string> = {
  LogFile: '/var/log/knockd.log',
  PidFile: '/run/knockd.pid',
  Interface: 'eth0',
  Firewall: 'nftables',
  Trusted_File: '/etc/knockd/knockd.trusted',
  Sequence: '1228,1227:udp',
  One_Time_Sequences: '/etc/knockd/ssh.ots',
  Seq_Timeout: '15',
  Timeout: '15',
  TCPFlags: 'syn,!ack',
  Cmd_Timeout: '10',
  Target: '192.0.2.2',
  Open_Ports: '22/tcp',
  Open_Timeout: '300',
  Ban: '3600',
};
const COMMANDS = [
  'Start_Command',
  'Command',
  'Start_Command_6',
  'Command_6',
  'Stop_Command',
  'Stop_Command_6',
];

const door = (lines: string) =>
  parseConfig(
    `[ssh]\n  Sequence = 1228\n  Start_Command = true\n  Stop_Command = true\n  Cmd_Timeout = 5\n${lines}`,
    'k.conf',
  );

describe('a trailing # comment', () => {
  it.each(OPTIONS_DIRECTIVES.filter((d) => SAMPLE[d]))(
    '[options] %s = VALUE   # …: one error, "no inline comments", the value kept',
    (name) => {
      const parsed = parseConfig(`[options]\n  ${name} = ${SAMPLE[name]}   # why\n`, 'k.conf');
      expect(parsed.issues).toMatchObject([
        { severity: 'error', code: 'config.inlineComment', line: 2 },
      ]);
      expect(parsed.issues[0]?.message).toMatch(/^knockd.conf has no inline comments/);
      expect(parsed.issues[0]?.column).toBe(`  ${name} = ${SAMPLE[name]}   #`.length);
    },
  );

  it.each(DOOR_DIRECTIVES.filter((d) => SAMPLE[d]))(
    'door %s = VALUE   # …: one error, "no inline comments"',
    (name) => {
      const parsed = door(
        `  ${name} = ${SAMPLE[name]}   # why\n${name === 'Open_Timeout' ? '  Open_Ports = 22/tcp\n' : ''}`,
      );
      // (a second Sequence line in the door also says it replaces the first)
      const issues = parsed.issues.filter((i) => i.code !== 'config.sequence.replaced');
      expect(issues).toMatchObject([{ severity: 'error', code: 'config.inlineComment', line: 6 }]);
    },
  );

  it('UseSyslog   # …: the same message, not the list of every directive', () => {
    const parsed = parseConfig('[options]\n  UseSyslog   # to /dev/log\n', 'k.conf');
    expect(parsed.issues).toHaveLength(1);
    expect(parsed.issues[0]).toMatchObject({ code: 'config.inlineComment', line: 2, column: 15 });
    expect(parsed.issues[0]?.message).not.toContain('directives in');
  });

  it('[ssh]   # …: the header too', () => {
    const parsed = parseConfig('[ssh]   # the door\n  Sequence = 1\n  Command = true\n');
    expect(parsed.issues.map((i) => i.code)).toContain('config.inlineComment');
    expect(parsed.issues[0]?.message).toMatch(/no inline comments/);
  });

  it.each(COMMANDS)('%s keeps its # (the shell reads it as a comment)', (name) => {
    const parsed = door(`  ${name} = logger knock %IP%   # logged\n`);
    expect(parsed.issues.filter((i) => i.code === 'config.inlineComment')).toEqual([]);
  });

  it('a # inside a value without a blank before it is not a comment', () => {
    expect(parseConfig('[options]\n  LogFile = /var/log/k#1.log\n').issues).toEqual([]);
  });
});

describe('a value that failed to parse causes no second, wrong issue', () => {
  it('Open_Ports with an inline comment: no "Open_Timeout has no effect without Open_Ports"', () => {
    const parsed = door('  Open_Ports = 22/tcp   # ssh\n  Open_Timeout = 300\n');
    expect(parsed.issues.map((i) => i.code)).toEqual(['config.inlineComment']);
    expect(parsed.config.doors[0]?.openPorts).toEqual([{ port: 22, protocol: 'tcp' }]);
  });

  it('One_Time_Sequences with no value: its own error, not also "an empty knock sequence"', () => {
    const parsed = parseConfig('[otp]\n  One_Time_Sequences =\n  Command = true\n');
    expect(parsed.issues.map((i) => i.code)).toEqual(['config.value.empty']);
  });

  it('Open_Ports that is wrong: its own error only', () => {
    const parsed = door('  Open_Ports = 22:tcp\n  Open_Timeout = 300\n');
    expect(parsed.issues.map((i) => i.code)).toEqual(['config.openPorts.invalid']);
  });
});

describe('TCPFlags = syn,!syn', () => {
  it('is a warning: no packet can match', () => {
    const parsed = door('  TCPFlags = syn,!syn\n');
    expect(parsed.issues).toMatchObject([
      { severity: 'warning', code: 'config.tcpFlags.contradiction', line: 6, column: 18 },
    ]);
  });
});
