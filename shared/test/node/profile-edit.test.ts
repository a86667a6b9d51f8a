import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KnockError, type Profile } from '@knock/shared';
import { applyProfileChange, type ProfileChange } from '@knock/shared/profile-edit';
import { parseProfiles } from '@knock/shared/profiles';

const file = `# knock profiles: written by hand
# keep this header

[hosts."a.example"]   # the lab
sequence = "1228,1227"   # the knock
port    = 22
note = "a key knock does not know"

# comment about b
[hosts.b]
sequence = '7000,8000'
family='ipv4'
# a comment at the end of b

[hosts."c"]
one_time_sequences = "~/x.ots"
`;

const profiles = parseProfiles(file).profiles;
const byHost = (host: string): Profile => {
  const p = profiles.find((q) => q.host === host);
  if (!p) throw new Error(host);
  return p;
};
const put = (original: string | null, profile: Profile, previous?: Profile): ProfileChange => ({
  type: 'put',
  original,
  profile,
  ...(previous ? { previous } : {}),
});

describe('applyProfileChange', () => {
  it('changes one value where it stands, keeping comments, spacing and unknown keys', () => {
    const a = byHost('a.example');
    expect(applyProfileChange(file, put('a.example', { ...a, port: 2222 }, a))).toBe(
      file.replace('port    = 22', 'port    = 2222'),
    );
    expect(
      applyProfileChange(
        file,
        put('a.example', { ...a, sequence: [{ port: 9, protocol: 'udp' }] }, a),
      ),
    ).toBe(file.replace('"1228,1227"   # the knock', '"9:udp"   # the knock'));
  });

  it('adds a key after the last key, keeps a literal string literal, writes no defaults', () => {
    const b = byHost('b');
    const out = applyProfileChange(
      file,
      put('b', { ...b, delayMs: 100, sequence: [{ port: 1, protocol: 'tcp' }] }, b),
    );
    expect(out).toBe(
      file.replace(
        "sequence = '7000,8000'\nfamily='ipv4'\n",
        "sequence = '1'\nfamily='ipv4'\ndelay_ms = 100\n",
      ),
    );
    // family "any" on a line the user wrote: the line stays, with the new value.
    expect(applyProfileChange(file, put('b', { ...b, family: 'any' }, b))).toBe(
      file.replace("family='ipv4'", "family='any'"),
    );
    // Saving a profile unchanged changes nothing (no family = "any", no delay_ms = 0).
    expect(applyProfileChange(file, put('c', byHost('c'), byHost('c')))).toBe(file);
  });

  it('removes the line of a cleared key, and renames the table in place', () => {
    const a = byHost('a.example');
    const { port: _, ...noPort } = a;
    expect(applyProfileChange(file, put('a.example', { ...noPort, host: 'z.example' }, a))).toBe(
      file.replace('[hosts."a.example"]', '[hosts."z.example"]').replace('port    = 22\n', ''),
    );
  });

  it('appends a new profile as its own table, with only what was set', () => {
    const out = applyProfileChange(
      file,
      put(null, {
        host: 'new.example',
        sequence: [{ port: 1, protocol: 'tcp' }],
        port: 22,
        family: 'any',
        delayMs: 0,
      }),
    );
    expect(out).toBe(`${file}\n[hosts."new.example"]\nsequence = "1"\nport = 22\n`);
    expect(
      applyProfileChange(
        '',
        put(null, { host: 'h', oneTimeSequences: '/home/ana/h.ots', family: 'ipv6', delayMs: 5 }),
        {
          home: '/home/ana',
        },
      ),
    ).toBe('[hosts."h"]\none_time_sequences = "~/h.ots"\nfamily = "ipv6"\ndelay_ms = 5\n');
    // A file without a final newline, and one with CRLF line endings.
    expect(
      applyProfileChange(
        '[hosts.a]\nsequence = "1"',
        put(null, {
          host: 'b',
          sequence: [{ port: 2, protocol: 'tcp' }],
          family: 'any',
          delayMs: 0,
        }),
      ),
    ).toBe('[hosts.a]\nsequence = "1"\n\n[hosts."b"]\nsequence = "2"\n');
    expect(
      applyProfileChange(
        '[hosts.a]\r\nsequence = "1"\r\n',
        put(null, {
          host: 'b',
          sequence: [{ port: 2, protocol: 'tcp' }],
          family: 'any',
          delayMs: 0,
        }),
      ),
    ).toBe('[hosts.a]\r\nsequence = "1"\r\n\r\n[hosts."b"]\r\nsequence = "2"\r\n');
  });

  it('deletes exactly the table, keeping the comments around it', () => {
    expect(applyProfileChange(file, { type: 'delete', host: 'b' })).toBe(
      file.replace("[hosts.b]\nsequence = '7000,8000'\nfamily='ipv4'\n", ''),
    );
    expect(applyProfileChange(file, { type: 'delete', host: 'c' })).toBe(
      file.replace('\n[hosts."c"]\none_time_sequences = "~/x.ots"\n', ''),
    );
  });

  it('treats ~/… and $HOME/… as the same path', () => {
    const c = { ...byHost('c'), oneTimeSequences: '/home/ana/x.ots' };
    expect(applyProfileChange(file, put('c', c, c), { home: '/home/ana' })).toBe(file);
    expect(
      applyProfileChange(file, put('c', { ...c, oneTimeSequences: '/home/ana/y.ots' }, c), {
        home: '/home/ana',
      }),
    ).toBe(file.replace('~/x.ots', '~/y.ots'));
  });

  it('refuses, writing nothing, when the profile changed or vanished since it was read', () => {
    const a = byHost('a.example');
    const refused = (change: ProfileChange, text = file) => {
      try {
        applyProfileChange(text, change, { file: 'c.toml' });
      } catch (error) {
        expect(error).toBeInstanceOf(KnockError);
        return error as KnockError;
      }
      throw new Error('not refused');
    };
    expect(refused(put('a.example', { ...a, port: 1 }, { ...a, port: 23 }))).toMatchObject({
      code: 'profile.edit.changed',
      exitCode: 3,
    });
    expect(refused(put('gone', { ...a, host: 'gone' }, a)).code).toBe('profile.edit.gone');
    expect(refused(put(null, { ...a, host: 'B' })).message).toBe(
      'c.toml already has a profile for b',
    );
    expect(refused(put('b', { ...byHost('b'), host: 'A.example' }, byHost('b'))).code).toBe(
      'profile.edit.exists',
    );
    expect(refused({ type: 'delete', host: 'nobody' }).code).toBe('profile.edit.gone');
    expect(refused(put(null, { ...a, host: 'n' }), `${file}[oops\n`).message).toMatch(
      /^cannot save: c\.toml:17:\d+: error: TOML syntax error/,
    );
    expect(refused(put(null, { ...a, host: 'two words' })).message).toBe(
      'the profile for two words would not be valid: [hosts."two words"]: "two words" is not a host name or address',
    );
    // A profile written as dotted keys is left to an editor.
    const h = parseProfiles('hosts.h.sequence = "1"\n').profiles[0] as Profile;
    expect(refused(put('h', { ...h, port: 22 }, h), 'hosts.h.sequence = "1"\n').code).toBe(
      'profile.edit.form',
    );
  });

  it('edits another profile while one has errors, leaving the broken one as it is', () => {
    const text = `${file}\n[hosts.broken]\nport = 99999\n`;
    const a = byHost('a.example');
    expect(applyProfileChange(text, put('a.example', { ...a, port: 2 }, a))).toBe(
      text.replace('port    = 22', 'port    = 2'),
    );
    // and it can be deleted
    expect(applyProfileChange(text, { type: 'delete', host: 'broken' })).toBe(file);
  });
});

// ---------------------------------------------------------------------------------------------
// The property: for random profile files with comments, a random edit leaves every byte
// outside the edited table as it was, and the file reads back as intended.

interface Table {
  host: string;
  profile: Profile;
  /** [start of header line, end of last key line) in the file. */
  start: number;
  end: number;
}

const hostArb = fc.stringMatching(/^[a-z][a-z0-9-]{0,6}(\.[a-z0-9]{1,5})?$/);
const knockArb = fc.record({
  port: fc.integer({ min: 1, max: 65535 }),
  protocol: fc.constantFrom('tcp' as const, 'udp' as const),
});
const profileArb = (host: string) =>
  fc
    .record({
      sequence: fc.array(knockArb, { minLength: 1, maxLength: 4 }),
      ots: fc.constantFrom('~/a.ots', '/srv/b.ots', 'rel/c.ots'),
      useOts: fc.boolean(),
      port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      family: fc.constantFrom('any' as const, 'ipv4' as const, 'ipv6' as const),
      delayMs: fc.constantFrom(0, 10, 60_000),
      verifyTimeoutMs: fc.option(fc.integer({ min: 1, max: 600_000 }), { nil: undefined }),
    })
    .map(({ sequence, ots, useOts, port, verifyTimeoutMs, ...rest }): Profile => {
      const p: Profile = { host, ...rest, ...(useOts ? { oneTimeSequences: ots } : { sequence }) };
      if (port !== undefined) p.port = port;
      if (verifyTimeoutMs !== undefined) p.verifyTimeoutMs = verifyTimeoutMs;
      return p;
    });

const commentArb = fc
  .string({ maxLength: 20 })
  .map((s) => `# ${[...s].map((c) => (c < ' ' || c === '\u007f' ? ' ' : c)).join('')}`);
const spaceArb = fc.constantFrom('', ' ', '  ', '\t');

/** One key line as a person might write it. */
const keyLineArb = (key: string, value: string) =>
  fc
    .tuple(spaceArb, spaceArb, spaceArb, fc.option(commentArb, { nil: undefined }))
    .map(
      ([a, b, c, comment]) => `${a}${key}${b}=${c || ' '}${value}${comment ? ` ${comment}` : ''}`,
    );

const valueOf = (p: Profile, key: string): string | undefined => {
  switch (key) {
    case 'sequence':
      return p.sequence
        ? `"${p.sequence.map((k) => (k.protocol === 'udp' ? `${k.port}:udp` : k.port)).join(',')}"`
        : undefined;
    case 'one_time_sequences':
      return p.oneTimeSequences === undefined ? undefined : `'${p.oneTimeSequences}'`;
    case 'port':
      return p.port === undefined ? undefined : String(p.port);
    case 'family':
      return p.family === 'any' ? undefined : `"${p.family}"`;
    case 'delay_ms':
      return p.delayMs === 0 ? undefined : String(p.delayMs);
    case 'verify_timeout_ms':
      return p.verifyTimeoutMs === undefined ? undefined : String(p.verifyTimeoutMs);
  }
  return undefined;
};
const KEYS = ['sequence', 'one_time_sequences', 'port', 'family', 'delay_ms', 'verify_timeout_ms'];

/** A table's lines: header, then key lines in random order with comments and unknown keys between. */
const tableArb = (profile: Profile) =>
  fc
    .tuple(
      fc.boolean(),
      fc.option(commentArb, { nil: undefined }),
      fc.shuffledSubarray(
        KEYS.filter((k) => valueOf(profile, k) !== undefined),
        { minLength: 0 },
      ),
      fc.array(fc.oneof(commentArb, fc.constant('note = "keep me"'), fc.constant('')), {
        maxLength: 3,
      }),
    )
    .chain(([quoted, headerComment, order, extras]) => {
      const keys = KEYS.filter((k) => valueOf(profile, k) !== undefined);
      // Every key the profile needs, in a random order.
      const all = [...order, ...keys.filter((k) => !order.includes(k))];
      return fc
        .tuple(...all.map((k) => keyLineArb(k, valueOf(profile, k) ?? '')))
        .map((keyLines) => {
          const header = `[hosts.${quoted || !/^[A-Za-z0-9_-]+$/.test(profile.host) ? `"${profile.host}"` : profile.host}]${headerComment ? `  ${headerComment}` : ''}`;
          const lines = [...keyLines];
          // Extras go between keys (never after the last key: those belong between tables).
          extras.forEach((extra, i) => {
            if (extra === 'note = "keep me"' && lines.some((l) => l.startsWith('note'))) return;
            lines.splice(Math.min(i, Math.max(lines.length - 1, 0)), 0, extra);
          });
          while (lines.length > 0 && !/=/.test(lines[lines.length - 1] ?? '')) lines.pop();
          return [header, ...lines];
        });
    });

const fileArb = fc
  .uniqueArray(hostArb, {
    minLength: 1,
    maxLength: 5,
    comparator: (a, b) => a.toLowerCase() === b.toLowerCase(),
  })
  .chain((hosts) =>
    fc.tuple(
      fc.tuple(...hosts.map((h) => profileArb(h))),
      fc.constantFrom('\n', '\r\n'),
      fc.array(fc.oneof(commentArb, fc.constant('')), { maxLength: 3 }),
    ),
  )
  .chain(([ps, nl, preamble]) =>
    fc
      .tuple(
        ...ps.map((p) =>
          fc.tuple(tableArb(p), fc.array(fc.oneof(commentArb, fc.constant('')), { maxLength: 2 })),
        ),
      )
      .map((tables) => {
        let text = preamble.map((l) => l + nl).join('');
        const spans: Table[] = [];
        tables.forEach(([lines, after], i) => {
          const profile = ps[i];
          if (!profile) return;
          if (text !== '' && !text.endsWith(`${nl}${nl}`)) text += nl;
          const start = text.length;
          text += lines.map((l) => l + nl).join('');
          spans.push({ host: profile.host, profile, start, end: text.length });
          text += after.map((l) => l + nl).join('');
        });
        return { text, tables: spans, nl };
      }),
  );

const editArb = fc
  .tuple(fileArb, fc.nat(), fc.constantFrom('change', 'delete', 'add', 'rename'))
  .chain(([doc, pick, kind]) => {
    const table = doc.tables[pick % doc.tables.length] as Table;
    const fresh = hostArb.filter(
      (h) => !doc.tables.some((t) => t.host.toLowerCase() === h.toLowerCase()),
    );
    if (kind === 'add')
      return fresh.chain((h) => profileArb(h)).map((p) => ({ doc, table, change: put(null, p) }));
    if (kind === 'delete')
      return fc.constant({
        doc,
        table,
        change: { type: 'delete', host: table.host } as ProfileChange,
      });
    if (kind === 'rename')
      return fresh
        .chain((h) => profileArb(h))
        .map((p) => ({ doc, table, change: put(table.host, p, table.profile) }));
    return profileArb(table.host).map((p) => ({
      doc,
      table,
      change: put(table.host, p, table.profile),
    }));
  });

describe('applyProfileChange (property)', () => {
  it('the generated files read back as generated', () => {
    fc.assert(
      fc.property(fileArb, ({ text, tables }) => {
        const parsed = parseProfiles(text);
        expect(parsed.issues.filter((i) => i.severity === 'error')).toEqual([]);
        expect(parsed.profiles.map((p) => p.host)).toEqual(tables.map((t) => t.host));
      }),
      { numRuns: 100 },
    );
  });

  it('leaves every byte outside the edited table unchanged, and reads back as intended', () => {
    fc.assert(
      fc.property(editArb, ({ doc, table, change }) => {
        const { text } = doc;
        const out = applyProfileChange(text, change);
        const after = parseProfiles(out);
        const others = doc.tables.filter(
          (t) => t !== table || (change.type === 'put' && change.original === null),
        );
        // Every other profile reads back the same, in the same order.
        expect(after.profiles.filter((p) => others.some((t) => t.host === p.host))).toEqual(
          parseProfiles(text).profiles.filter((p) => others.some((t) => t.host === p.host)),
        );
        expect(after.invalid).toEqual([]);
        if (change.type === 'put' && change.original === null) {
          // Added at the end: the old text is a prefix.
          expect(out.startsWith(text)).toBe(true);
          expect(after.profiles.at(-1)?.host).toBe(change.profile.host);
          return;
        }
        const before = text.slice(0, table.start);
        const rest = text.slice(table.end);
        if (change.type === 'delete') {
          const tidy = [
            before + rest,
            before + rest.replace(/^[ \t]*\r?\n/, ''),
            before.replace(/[ \t]*\r?\n$/, '') + rest,
          ];
          expect(tidy).toContain(out);
          expect(after.profiles.some((p) => p.host === table.host)).toBe(false);
          return;
        }
        expect(out.slice(0, before.length)).toBe(before);
        expect(out.slice(out.length - rest.length)).toBe(rest);
        // Comments and unknown keys inside the edited table stay.
        const inside = text.slice(table.start, table.end);
        for (const line of inside.split(doc.nl))
          if (/^\s*#/.test(line) || line.startsWith('note')) expect(out).toContain(line);
        const written = after.profiles.find((p) => p.host === change.profile.host);
        expect(written).toBeDefined();
        expect({ ...written, family: written?.family }).toEqual({ ...change.profile });
      }),
      { numRuns: 300 },
    );
  });
});
