import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serializeProfiles, type Profile } from '@knock/shared';
import { parseProfiles } from '@knock/shared/profiles';

const design = `[hosts."ssh.maths.fr"]
sequence = "1228,1227"        # the knockd Sequence syntax
port = 22                     # probed after knocking
family = "any"
delay_ms = 0
# one_time_sequences = "~/.config/knock/ssh.maths.fr.ots"  (instead of sequence)

[hosts.lab]
one_time_sequences = "~/.config/knock/lab.ots"
family = "ipv4"
verify_timeout_ms = 4000
`;

describe('parseProfiles', () => {
  it("reads DESIGN.md's example, with defaults", () => {
    const { profiles, issues } = parseProfiles(design, 'config.toml');
    expect(issues).toEqual([]);
    expect(profiles).toEqual([
      {
        host: 'ssh.maths.fr',
        sequence: [
          { port: 1228, protocol: 'tcp' },
          { port: 1227, protocol: 'tcp' },
        ],
        port: 22,
        family: 'any',
        delayMs: 0,
      },
      {
        host: 'lab',
        oneTimeSequences: '~/.config/knock/lab.ots',
        family: 'ipv4',
        delayMs: 0,
        verifyTimeoutMs: 4000,
      },
    ]);
    expect(parseProfiles('').profiles).toEqual([]);
    expect(parseProfiles('# nothing yet\n').issues).toEqual([]);
  });

  it('gives the line and column of a TOML syntax error', () => {
    const { profiles, issues, invalid } = parseProfiles(
      '[hosts."a"]\nport = 22\nport = 23\n',
      'c.toml',
    );
    expect(profiles).toEqual([]);
    expect(issues).toMatchObject([
      { severity: 'error', code: 'profile.toml', file: 'c.toml', line: 3, column: 1 },
    ]);
    expect(invalid).toMatchObject([{ host: 'a', line: 1 }]);
    expect(issues[0]?.message).toMatch(/^TOML syntax error: /);
    expect(parseProfiles('[hosts."a"\n').issues[0]).toMatchObject({ line: 1 });
  });

  it('warns about an unknown key at its line and column, and keeps the profile', () => {
    const { profiles, issues } = parseProfiles(
      '[hosts."ok"]\nsequence = "1"\n\n[hosts."ssh.example.org"]\nsequence = "1,2"\n  prot = 22\n',
      'c.toml',
    );
    expect(profiles.map((p) => p.host)).toEqual(['ok', 'ssh.example.org']);
    expect(issues).toMatchObject([
      {
        severity: 'warning',
        code: 'profile.unknownKey',
        file: 'c.toml',
        line: 6,
        column: 3,
        message: '[hosts."ssh.example.org"]: unknown key "prot" (ignored)',
        hint: 'did you mean port?',
      },
    ]);
  });

  it('says what each bad value should be, naming the key, at the value', () => {
    const cases: [string, RegExp, RegExp][] = [
      ['port = 70000', /port must be a port number from 1 to 65535, not 70000/, /port = 22/],
      ['port = "22"', /port must be a port number.*not "22"/, /port = 22/],
      ['port = 0', /port must be a port number.*not 0/, /port = 22/],
      ['port = 22.0', /port must be a port number.*not 22\.0/, /port = 22/],
      ['port = 99999999999999999999', /port must be .* not 99999999999999999999/, /port = 22/],
      ['family = "inet6"', /family must be "any", "ipv4" or "ipv6"/, /family = "any"/],
      [
        'delay_ms = -1',
        /delay_ms must be a whole number of milliseconds from 0 to 60000/,
        /delay_ms = /,
      ],
      ['delay_ms = 1.5', /delay_ms must be a whole number of milliseconds/, /delay_ms = /],
      ['delay_ms = 99999999999', /delay_ms must be .* not 99999999999/, /delay_ms = /],
      ['delay_ms = inf', /delay_ms must be .* not inf/, /delay_ms = /],
      ['verify_timeout_ms = 0', /verify_timeout_ms must be .* from 1 to 600000, not 0/, /= 5000/],
      ['verify_timeout_ms = nan', /verify_timeout_ms must be .* not nan/, /= 5000/],
    ];
    for (const [line, message, hint] of cases) {
      const { profiles, issues, invalid } = parseProfiles(`[hosts.h]\nsequence = "1"\n${line}\n`);
      expect(profiles, line).toEqual([]);
      expect(
        invalid.map((i) => i.host),
        line,
      ).toEqual(['h']);
      expect(issues, line).toHaveLength(1);
      expect(issues[0]?.message, line).toMatch(message);
      expect(issues[0]?.message, line).toContain('[hosts."h"]');
      expect(issues[0]?.hint, line).toMatch(hint);
      expect(issues[0]?.line, line).toBe(3);
      expect(issues[0]?.column, line).toBe(line.indexOf('=') + 3);
    }
  });

  it('makes a bad profile unusable on its own: the others stay, every problem is listed', () => {
    const text = [
      '[hosts.good]',
      'sequence = "1228"',
      '',
      '[hosts.bad]',
      'sequence = "1228,,70000"',
      'port = 0',
      'family = "x"',
      '',
      '[hosts.also-good]',
      'one_time_sequences = "~/x.ots"',
      '',
    ].join('\n');
    const { profiles, issues, invalid } = parseProfiles(text, 'c.toml');
    expect(profiles.map((p) => p.host)).toEqual(['good', 'also-good']);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]?.host).toBe('bad');
    expect(invalid[0]?.issues.map((i) => `${i.line}:${i.column}`)).toEqual([
      '5:18',
      '5:19',
      '6:8',
      '7:10',
    ]);
    expect(issues).toEqual(invalid[0]?.issues);
  });

  it('keeps the other profiles usable after a TOML syntax error in one table', () => {
    const text = [
      '[hosts.good]',
      'sequence = "1228"',
      '',
      '[hosts.bad]',
      'sequence = "1228',
      'port = 22',
      '',
      '[hosts.other]',
      'sequence = "7000"',
      '',
      '[hosts.good]',
      'sequence = "1"',
      '',
    ].join('\n');
    const { profiles, issues, invalid } = parseProfiles(text, 'c.toml');
    expect(profiles.map((p) => p.host)).toEqual(['other']);
    expect(invalid.map((i) => i.host)).toEqual(['good', 'bad']);
    expect(issues.map((i) => `${i.line}:${i.code}`)).toEqual([
      '5:profile.toml',
      '11:profile.duplicate',
    ]);
  });

  it('reads keys named like Object.prototype properties as unknown keys (no crash)', () => {
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const { profiles, issues } = parseProfiles(
        `[hosts.h]\nsequence = "1"\n${key} = 1\n\n[hosts.${key}]\nsequence = "2"\n`,
      );
      expect(
        profiles.map((p) => p.host),
        key,
      ).toEqual(['h', key]);
      expect(issues, key).toMatchObject([
        { severity: 'warning', code: 'profile.unknownKey', line: 3, column: 1 },
      ]);
    }
    const table = parseProfiles('[hosts."h"]\nsequence = "1"\n\n[hosts."h".__proto__]\nx = 1\n');
    expect(table.profiles.map((p) => p.host)).toEqual(['h']);
    expect(table.issues).toMatchObject([{ code: 'profile.unknownKey', line: 4 }]);
    expect(parseProfiles('__proto__ = 1\nconstructor = 2\n[toString]\n').issues).toMatchObject([
      { code: 'profile.topLevel', line: 1 },
      { code: 'profile.topLevel', line: 2 },
      { code: 'profile.topLevel', line: 3 },
    ]);
  });

  it('requires exactly one of sequence and one_time_sequences', () => {
    expect(parseProfiles('[hosts.h]\nport = 22\n').issues).toMatchObject([
      { code: 'profile.noSequence', line: 1 },
    ]);
    expect(
      parseProfiles('[hosts.h]\nsequence = "1"\none_time_sequences = "/x"\n').issues,
    ).toMatchObject([{ code: 'profile.bothSequences', line: 3 }]);
  });

  it('checks the sequence with the knockd syntax, pointing inside the string', () => {
    const { issues } = parseProfiles('[hosts.h]\nsequence = "7000,8000,"\n', 'c.toml');
    expect(issues).toMatchObject([
      { code: 'sequence.emptyElement', file: 'c.toml', line: 2, column: 23 },
    ]);
    expect(issues[0]?.message).toMatch(/^\[hosts\."h"\] sequence: /);
  });

  it('warns about other top-level keys, rejects a hosts value that is not a table', () => {
    expect(parseProfiles('verbose = true\n').issues).toMatchObject([
      { code: 'profile.topLevel', severity: 'warning' },
    ]);
    expect(parseProfiles('hosts = 3\n').issues).toMatchObject([{ code: 'profile.hosts' }]);
    expect(parseProfiles('[hosts]\nh = 3\n').issues).toMatchObject([{ code: 'profile.notTable' }]);
    // Dotted keys and inline tables are profiles too.
    expect(
      parseProfiles('[hosts]\na.sequence = "1"\nb = { sequence = "2", port = 22 }\n').profiles,
    ).toMatchObject([{ host: 'a' }, { host: 'b', port: 22 }]);
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const { issues } = parseProfiles(text);
        for (const issue of issues) expect(issue.hint).toBeTruthy();
      }),
      { numRuns: 300 },
    );
  });

  const profile: fc.Arbitrary<Profile> = fc
    .record(
      {
        host: fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/\s/.test(s)),
        sequence: fc.array(
          fc.record({
            port: fc.integer({ min: 1, max: 65535 }),
            protocol: fc.constantFrom('tcp' as const, 'udp' as const),
          }),
          { minLength: 1, maxLength: 32 },
        ),
        ots: fc.string({ minLength: 1, maxLength: 40 }),
        useOts: fc.boolean(),
        port: fc.integer({ min: 1, max: 65535 }),
        family: fc.constantFrom('any' as const, 'ipv4' as const, 'ipv6' as const),
        delayMs: fc.integer({ min: 0, max: 60_000 }),
        verifyTimeoutMs: fc.integer({ min: 1, max: 600_000 }),
      },
      { requiredKeys: ['host', 'sequence', 'ots', 'useOts', 'family', 'delayMs'] },
    )
    .map(({ sequence, ots, useOts, ...rest }) =>
      useOts ? { ...rest, oneTimeSequences: ots } : { ...rest, sequence },
    );

  it('round-trips: parseProfiles(serializeProfiles(p)) equals p', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(profile, { maxLength: 5, selector: (p) => p.host }),
        (profiles) => {
          const parsed = parseProfiles(serializeProfiles(profiles));
          expect(parsed.issues).toEqual([]);
          expect(parsed.profiles).toEqual(profiles);
        },
      ),
      { numRuns: 300 },
    );
  });
});
