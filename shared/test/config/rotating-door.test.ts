import { describe, expect, it } from 'vitest';
import {
  extensionsUsed,
  formatIssue,
  parseConfig,
  ROTATING_DEFAULTS,
  serializeConfig,
} from '@knock/shared';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const rotating = (lines: string) => `[ssh]\n  Sequence_Secret = ${SECRET}\n${lines}\n`;
const problems = (text: string) =>
  parseConfig(text, 'k.conf').issues.map((i) => ({
    severity: i.severity,
    code: i.code,
    line: i.line,
    text: formatIssue(i),
  }));

describe('knockd.conf: rotating doors', () => {
  it('reads every directive, case-insensitively, with the defaults for the rest', () => {
    const { config, issues } = parseConfig(
      `[ssh]\n  sequence_secret_file = /etc/knock-server/ssh.secret\n  SEQUENCE_LENGTH = 6\n  Sequence_Step = 60\n  Sequence_Ports = 20000-20999\n  Sequence_Skew = 2\n  Sequence_Protocols = mixed\n  Sequence_Secret_Previous_File = /etc/knock-server/ssh.old\n  Sequence_Secret_Previous_Until = 2026-12-31T12:00:00Z\n  Open_Ports = 22/tcp\n`,
    );
    expect(issues).toEqual([]);
    expect(config.doors[0]?.rotating).toMatchObject({
      secretFile: '/etc/knock-server/ssh.secret',
      length: 6,
      step: 60,
      low: 20000,
      high: 20999,
      skew: 2,
      protocols: 'mixed',
      previousFile: '/etc/knock-server/ssh.old',
      previousUntil: Date.UTC(2026, 11, 31, 12),
    });
    expect(extensionsUsed(config)).toContain('Sequence_Secret (rotating sequences)');
  });

  it("an inline secret is decoded; defaults are the issue's (4 knocks, 30 s, 10000-65000, skew 1, tcp)", () => {
    const { config, issues } = parseConfig(rotating(''));
    expect(issues).toEqual([]);
    const r = config.doors[0]!.rotating!;
    expect(r.secret).toHaveLength(20);
    expect(r).toMatchObject({ length: 4, step: 30, low: 10000, high: 65000, skew: 1 });
    expect(r.protocols).toBe(ROTATING_DEFAULTS.protocols);
  });

  it.each([
    [
      'a secret too short',
      `[ssh]\n  Sequence_Secret = JBSWY3DPEHPK3PXP\n`,
      2,
      /door 'ssh'.*too short: 80 bits, at least 128/,
    ],
    [
      'a secret not in base32',
      `[ssh]\n  Sequence_Secret = JBSWY3DPEHPK3PX1JBSWY3DPEHPK3PXP\n`,
      2,
      /door 'ssh'.*not base32: '1'/,
    ],
    [
      'a length out of range',
      rotating('  Sequence_Length = 40'),
      3,
      /door 'ssh'.*Sequence_Length must be a whole number from 2 to 32, not 40/,
    ],
    [
      'a length of 1',
      rotating('  Sequence_Length = 1'),
      3,
      /Sequence_Length must be a whole number from 2 to 32, not 1/,
    ],
    [
      'step 0',
      rotating('  Sequence_Step = 0'),
      3,
      /door 'ssh'.*Sequence_Step must be a whole number of seconds from 1 to 86400, not 0/,
    ],
    [
      'a range smaller than the length',
      rotating('  Sequence_Length = 5\n  Sequence_Ports = 40000-40003'),
      4,
      /door 'ssh'.*40000-40003 holds 4 ports, fewer than the 5/,
    ],
    [
      'a bad range',
      rotating('  Sequence_Ports = 9000-100'),
      3,
      /door 'ssh'.*must lie within 1-65535, low first/,
    ],
    ['a skew too wide', rotating('  Sequence_Skew = 11'), 3, /door 'ssh'.*too many steps/],
    [
      'a word for a number',
      rotating('  Sequence_Step = thirty'),
      3,
      /Sequence_Step = thirty in door 'ssh' is not a whole number/,
    ],
    [
      'unknown protocols',
      rotating('  Sequence_Protocols = icmp'),
      3,
      /icmp in door 'ssh' is not tcp, udp or mixed/,
    ],
    [
      'a date without a zone',
      rotating(
        '  Sequence_Secret_Previous_File = /x\n  Sequence_Secret_Previous_Until = 2026-12-31 12:00',
      ),
      4,
      /not an ISO-8601 date and time with a zone/,
    ],
    [
      'a previous secret without an end',
      rotating('  Sequence_Secret_Previous_File = /x'),
      3,
      /needs Sequence_Secret_Previous_Until/,
    ],
    [
      'settings but no secret',
      `[ssh]\n  Sequence_Length = 4\n`,
      2,
      /door 'ssh' has rotating-sequence settings but no secret/,
    ],
    [
      'a fixed and a rotating sequence',
      `[ssh]\n  Sequence = 7000,8000\n  Sequence_Secret = ${SECRET}\n`,
      2,
      /door 'ssh' has both a fixed sequence \(line 2\) and a rotating one/,
    ],
    [
      'two secrets',
      rotating('  Sequence_Secret_File = /etc/x'),
      3,
      /both Sequence_Secret and Sequence_Secret_File/,
    ],
  ])('%s is an error naming the door and the line', (_, text, line, message) => {
    const errors = problems(text).filter((p) => p.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.line).toBe(line);
    expect(errors[0]?.text).toMatch(message);
    expect(errors[0]?.text).toMatch(new RegExp(`^k\\.conf:${line}(:\\d+)?: error: `));
  });

  it('a rotating door needs no Sequence line', () => {
    expect(problems(rotating('')).filter((p) => p.code === 'config.door.emptySequence')).toEqual(
      [],
    );
  });
});

describe('serializeConfig: rotating doors', () => {
  it('writes the directives back, and they read the same', () => {
    const text = `[ssh]\n  Sequence_Secret = ${SECRET}\n  Sequence_Length = 6\n  Sequence_Ports = 20000-29999\n  Sequence_Skew = 2\n  Sequence_Protocols = udp\n  Sequence_Secret_Previous_File = /etc/old\n  Sequence_Secret_Previous_Until = 2026-12-31T12:00:00Z\n  Open_Ports = 22/tcp\n[web]\n  Sequence_Secret_File = /etc/web.secret\n  Sequence_Step = 60\n`;
    const first = parseConfig(text);
    expect(first.issues).toEqual([]);
    const again = parseConfig(serializeConfig(first.config));
    expect(again.issues).toEqual([]);
    const strip = (c: typeof first.config) =>
      c.doors.map((d) => ({ ...d, line: 0, rotating: { ...d.rotating, lines: {} } }));
    expect(strip(again.config)).toEqual(strip(first.config));
  });
});
