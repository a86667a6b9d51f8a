import { describe, expect, it } from 'vitest';
import {
  findProfile,
  profileTable,
  serializeProfiles,
  tomlString,
  type Profile,
} from '@knock/shared';

const profile = (host: string, extra: Partial<Profile> = {}): Profile => ({
  host,
  sequence: [{ port: 1228, protocol: 'tcp' }],
  family: 'any',
  delayMs: 0,
  ...extra,
});

describe('serializeProfiles', () => {
  it('writes the DESIGN.md layout, without the defaults family = "any" and delay_ms = 0', () => {
    expect(
      serializeProfiles([
        profile('ssh.maths.fr', {
          sequence: [
            { port: 1228, protocol: 'tcp' },
            { port: 1227, protocol: 'udp' },
          ],
          port: 22,
        }),
        {
          host: 'lab',
          oneTimeSequences: '~/.config/knock/lab.ots',
          family: 'ipv6',
          delayMs: 50,
          verifyTimeoutMs: 3000,
        },
      ]),
    ).toBe(
      [
        '[hosts."ssh.maths.fr"]',
        'sequence = "1228,1227:udp"',
        'port = 22',
        '',
        '[hosts."lab"]',
        'one_time_sequences = "~/.config/knock/lab.ots"',
        'family = "ipv6"',
        'delay_ms = 50',
        'verify_timeout_ms = 3000',
        '',
      ].join('\n'),
    );
    expect(serializeProfiles([])).toBe('');
  });

  it('escapes what TOML strings need', () => {
    expect(tomlString('a"b\\c\n\u0001')).toBe('"a\\"b\\\\c\\n\\u0001"');
    expect(profileTable('x.y')).toBe('[hosts."x.y"]');
  });
});

describe('findProfile', () => {
  const profiles = [
    profile('Ssh.Example.org'),
    profile('ssh.example.org', { port: 2222 }),
    profile('lab'),
  ];
  it('prefers the exact name, then ignores case and a trailing dot', () => {
    expect(findProfile(profiles, 'ssh.example.org')?.port).toBe(2222);
    expect(findProfile(profiles, 'Ssh.Example.org')?.port).toBeUndefined();
    expect(findProfile(profiles, 'LAB.')?.host).toBe('lab');
    expect(findProfile(profiles, 'nope')).toBeUndefined();
  });
});
