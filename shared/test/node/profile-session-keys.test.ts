// The session keys of a profile: open_for, close_sequence, keep_open (issue 12).
import { describe, expect, it } from 'vitest';
import { formatSequence, profileTableText, type Profile } from '@knock/shared';
import { applyProfileChange } from '@knock/shared/profile-edit';
import { parseProfiles } from '@knock/shared/profiles';

const file = `[hosts."ssh.maths.fr"]
sequence = "7000,8000,9000"
port = 22
open_for = 20        # the server's Open_Timeout
close_sequence = '9000,8000,7000'
keep_open = true
# after
`;

describe('open_for, close_sequence, keep_open', () => {
  it('are read into the profile', () => {
    const { profiles, issues } = parseProfiles(file, 'config.toml');
    expect(issues).toEqual([]);
    const [p] = profiles;
    expect(p).toMatchObject({ openFor: 20, keepOpen: true });
    expect(formatSequence(p!.closeSequence!)).toBe('9000,8000,7000');
  });

  it('bad values are errors at their place, with an example', () => {
    const bad = parseProfiles(
      `[hosts.a]\nsequence = "1"\nopen_for = 0\nclose_sequence = "70000"\nkeep_open = "yes"\n`,
      'config.toml',
    );
    expect(bad.profiles).toEqual([]);
    expect(bad.issues.map((i) => [i.line, i.column, i.hint])).toEqual([
      [3, 12, 'e.g. open_for = 300'],
      [4, 19, expect.stringMatching(/./) as unknown as string],
      [5, 13, 'e.g. keep_open = true'],
    ]);
    expect(bad.issues[1]!.message).toMatch(/^\[hosts\."a"\] close_sequence: /);
    const typo = parseProfiles(`[hosts.a]\nsequence = "1"\nkeep_opn = true\n`);
    expect(typo.issues[0]!.hint).toBe('did you mean keep_open?');
  });

  it('the editor keeps them, changes one in place, and writes only what is set', () => {
    const [p] = parseProfiles(file).profiles;
    const next: Profile = { ...p!, openFor: 300, keepOpen: false };
    const text = applyProfileChange(file, {
      type: 'put',
      original: p!.host,
      profile: next,
      previous: p!,
    });
    expect(text).toBe(
      file
        .replace('open_for = 20', 'open_for = 300')
        .replace('keep_open = true', 'keep_open = false'),
    );
    const dropped: Profile = { ...p! };
    delete dropped.closeSequence;
    expect(
      applyProfileChange(file, { type: 'put', original: p!.host, profile: dropped, previous: p! }),
    ).not.toContain('close_sequence');
    expect(
      profileTableText({
        host: 'h',
        family: 'any',
        delayMs: 0,
        sequence: p!.sequence!,
        keepOpen: false,
      }),
    ).not.toContain('keep_open');
  });

  it('a new profile with them reads back the same', () => {
    const [p] = parseProfiles(file).profiles;
    const text = applyProfileChange('', {
      type: 'put',
      original: null,
      profile: { ...p!, host: 'b' },
    });
    expect(text).toContain('open_for = 20\nclose_sequence = "9000,8000,7000"\nkeep_open = true\n');
    expect(parseProfiles(text).profiles[0]).toEqual({ ...p!, host: 'b' });
  });
});
