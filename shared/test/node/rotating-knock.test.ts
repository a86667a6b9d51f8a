import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deriveSequence,
  formatKnockUri,
  parseKnockUri,
  parseSecret,
  profileSpec,
  PROFILE_KEYS,
  ROTATING_PROFILE_KEYS,
  serializeProfiles,
  validateDraft,
  emptyDraft,
  type Knock,
  type Profile,
} from '@knock/shared';
import {
  clientClock,
  createKnockService,
  secretFileText,
  type KnockDeps,
} from '@knock/shared/node';
import { applyProfileChange } from '@knock/shared/profile-edit';
import { parseProfiles } from '@knock/shared/profiles';
import { SECRET, rotatingKeys } from '../helpers/ui-fakes.js';

const dir = mkdtempSync(join(tmpdir(), 'knock-rot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const profile = (extra: Partial<Profile> = {}): Profile => ({
  host: 'ssh.example.org',
  family: 'any',
  delayMs: 0,
  port: 22,
  rotating: rotatingKeys(),
  ...extra,
});
const expected = (family: 4 | 6, step: number) =>
  deriveSequence(profileSpec(rotatingKeys(), parseSecret(SECRET).secret!), family, step);

function deps(now: number, open = true) {
  const sends: { addresses: string[]; knocks: readonly Knock[] }[] = [];
  const p: KnockDeps = {
    resolveTargets: () => Promise.resolve(['192.0.2.2', '2001:db8::2']),
    sendKnocks: ({ addresses, knocks, onEvent }) => {
      sends.push({ addresses: [...addresses], knocks });
      for (const address of addresses)
        knocks.forEach((knock, index) =>
          onEvent?.({ type: 'knock', address, knock, index, count: knocks.length }),
        );
      return Promise.resolve();
    },
    verifyOpen: () =>
      Promise.resolve(
        open ? { state: 'open', address: '192.0.2.2', elapsedMs: 1 } : { state: 'timeout' },
      ),
    takeOneTimeSequence: () => Promise.reject(new Error('not used')),
    now: () => now,
  };
  return { p, sends };
}

describe('the knock service with a rotating profile (TUI, tray)', () => {
  it('knocks the current step of its clock: the IPv4 sequence on IPv4 addresses, the IPv6 one on the others', async () => {
    const now = 1_765_000_000_000;
    const step = Math.floor(now / 30_000);
    const { p, sends } = deps(now);
    const progress: string[] = [];
    const outcome = await createKnockService(p).knock(profile(), (e) => {
      if (e.type === 'sent') progress.push(`${e.index + 1}/${e.total}`);
    });
    expect(outcome.status).toBe('open');
    // Each family's sequence, numbered on: the UIs show 8 knocks, not 4 twice.
    expect(progress).toEqual(['1/8', '2/8', '3/8', '4/8', '5/8', '6/8', '7/8', '8/8']);
    expect(sends).toEqual([
      { addresses: ['192.0.2.2'], knocks: expected(4, step) },
      { addresses: ['2001:db8::2'], knocks: expected(6, step) },
    ]);
  });

  it('follows the injected clock from step to step', async () => {
    const now = 1_765_000_000_000;
    const a = deps(now);
    const b = deps(now + 30_000);
    await createKnockService(a.p).knock(profile(), () => undefined);
    await createKnockService(b.p).knock(profile(), () => undefined);
    expect(b.sends[0]?.knocks).toEqual(expected(4, Math.floor(now / 30_000) + 1));
    expect(b.sends[0]?.knocks).not.toEqual(a.sends[0]?.knocks);
  });

  it('a port that stays closed says to check the clocks, with this clock and the step', async () => {
    const now = Date.UTC(2026, 11, 2, 13, 0, 5);
    const { p } = deps(now, false);
    const outcome = await createKnockService(p).knock(profile(), () => undefined);
    expect(outcome.status).toBe('closed');
    if (outcome.status !== 'closed') return;
    expect(outcome.reason).toContain('port 22 did not open');
    expect(outcome.reason).toContain("this computer's clock (2026-12-02 13:00:05 UTC)");
    expect(outcome.reason).toMatch(/within about 30 s of the server's/);
    expect(outcome.reason).toContain(`step ${Math.floor(now / 30_000)}`);
  });

  it('reads a secret file, and refuses one others can read', async () => {
    const file = join(dir, 'ok.secret');
    writeFileSync(file, secretFileText(parseSecret(SECRET).secret!, 'x'), { mode: 0o600 });
    chmodSync(file, 0o600);
    const { secret: _inline, ...secretInFile } = rotatingKeys({ secretFile: file });
    const fromFile = profile({ rotating: secretInFile });
    const now = 1_765_000_000_000;
    const ok = deps(now);
    expect((await createKnockService(ok.p).knock(fromFile, () => undefined)).status).toBe('open');
    expect(ok.sends[0]?.knocks).toEqual(expected(4, Math.floor(now / 30_000)));
    chmodSync(file, 0o644);
    const loose = deps(now);
    const outcome = await createKnockService(loose.p).knock(fromFile, () => undefined);
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(outcome.status === 'failed' && outcome.reason).toMatch(
      /secret file .* is readable or writable by others/,
    );
    expect(loose.sends).toEqual([]);
  });

  it("reads a relative secret_file from the profile file's folder (as a relative one-time file)", async () => {
    const folder = join(dir, 'profiles');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'rel.secret'), secretFileText(parseSecret(SECRET).secret!, 'x'), {
      mode: 0o600,
    });
    const relative = profile({ rotating: { ...rotatingKeys(), secretFile: 'rel.secret' } });
    delete relative.rotating!.secret;
    const now = 1_765_000_000_000;
    const ok = deps(now);
    const outcome = await createKnockService(ok.p).knock(relative, () => undefined, {
      profileFile: join(folder, 'config.toml'),
    });
    expect(outcome.status).toBe('open');
    expect(ok.sends[0]?.knocks).toEqual(expected(4, Math.floor(now / 30_000)));
    // Elsewhere it is not found, and the message names the file as written and where it looked.
    const missing = await createKnockService(deps(now).p).knock(relative, () => undefined, {
      profileFile: join(dir, 'config.toml'),
    });
    expect(missing.status === 'failed' && missing.reason).toContain(
      `the secret file rel.secret (looked at ${join(dir, 'rel.secret')})`,
    );
  });
});

describe('rotating profiles through the profile editor (TUI, tray, knock import)', () => {
  const text = [
    '# work',
    '[hosts."ssh.example.org"]  # the bastion',
    'secret_file = "~/k/ssh.secret"   # from knock import',
    'door = "ssh"',
    'length = 4',
    'step = 30',
    'ports = "10000-65000"',
    "protocols = 'udp'",
    'port = 22',
    '',
    '[hosts."b.example.org"]',
    'sequence = "1,2"',
    '',
  ].join('\n');
  const home = '/home/ana';
  const read = (t: string) => parseProfiles(t, 'c.toml').profiles[0]!;

  it('changes a rotating value where it stands, and keeps comments and the other profiles', () => {
    const before = read(text);
    const next = {
      ...before,
      rotating: { ...before.rotating!, step: 60, protocols: 'mixed' as const },
    };
    const after = applyProfileChange(
      text,
      { type: 'put', original: before.host, profile: next, previous: before },
      { home },
    );
    expect(after).toBe(text.replace('step = 30', 'step = 60').replace("'udp'", "'mixed'"));
  });

  it('protocols back to tcp stays on its line; a secret file under $HOME is written as ~/…', () => {
    const before = read(text);
    const next = {
      ...before,
      rotating: {
        ...before.rotating!,
        protocols: 'tcp' as const,
        secretFile: `${home}/k/new.secret`,
      },
    };
    const after = applyProfileChange(
      text,
      { type: 'put', original: before.host, profile: next, previous: before },
      { home },
    );
    expect(after).toBe(
      text.replace("'udp'", "'tcp'").replace('"~/k/ssh.secret"', '"~/k/new.secret"'),
    );
  });

  it('a fixed profile becomes rotating: the sequence line goes, the rotating keys come after the last key', () => {
    const before = parseProfiles(text, 'c.toml').profiles[1]!;
    const next: Profile = { ...before, rotating: rotatingKeys() };
    delete next.sequence;
    const after = applyProfileChange(
      text,
      { type: 'put', original: before.host, profile: next, previous: before },
      { home },
    );
    expect(after).toBe(
      text.replace(
        '[hosts."b.example.org"]\nsequence = "1,2"\n',
        `[hosts."b.example.org"]\nsecret = "${SECRET}"\ndoor = "ssh"\nlength = 4\nstep = 30\nports = "10000-65000"\n`,
      ),
    );
    expect(parseProfiles(after, 'c.toml').profiles[1]).toEqual(next);
  });
});

describe('clientClock ($KNOCK_CLOCK_OFFSET)', () => {
  it('moves the clock by the seconds given, and says so when it is not a number', () => {
    const before = Date.now();
    expect(clientClock({ KNOCK_CLOCK_OFFSET: '-91' })()).toBeLessThanOrEqual(before - 91_000 + 50);
    expect(clientClock({ KNOCK_CLOCK_OFFSET: '29' })()).toBeGreaterThanOrEqual(before + 29_000);
    expect(clientClock({})()).toBeGreaterThanOrEqual(before);
    expect(() => clientClock({ KNOCK_CLOCK_OFFSET: 'soon' })()).toThrow(
      /KNOCK_CLOCK_OFFSET=soon is not a number of seconds/,
    );
  });
});

describe('rotating profiles in the profile file', () => {
  it('knows every rotating key (profile.ts lists them without importing the derivation)', () => {
    for (const key of ROTATING_PROFILE_KEYS) expect(PROFILE_KEYS).toContain(key);
  });

  it('reads the keys and writes them back the same', () => {
    const text = `[hosts."ssh.example.org"]\nsecret_file = "/home/u/.config/knock/s.secret"\ndoor = "ssh"\nlength = 5\nstep = 60\nports = "20000-29999"\nprotocols = "mixed"\nport = 22\n`;
    const parsed = parseProfiles(text, 'c.toml');
    expect(parsed.issues).toEqual([]);
    expect(parsed.profiles[0]?.rotating).toEqual({
      secretFile: '/home/u/.config/knock/s.secret',
      door: 'ssh',
      length: 5,
      step: 60,
      low: 20000,
      high: 29999,
      protocols: 'mixed',
    });
    const again = parseProfiles(serializeProfiles(parsed.profiles), 'c.toml');
    expect(again.profiles).toEqual(parsed.profiles);
  });

  it.each([
    ['no door', 'secret = "' + SECRET + '"\n', /has no door/],
    ['no secret', 'door = "ssh"\n', /no secret_file or secret/],
    [
      'both secrets',
      `secret = "${SECRET}"\nsecret_file = "/x"\ndoor = "ssh"\n`,
      /both secret and secret_file/,
    ],
    ['a short secret', 'secret = "JBSWY3DP"\ndoor = "ssh"\n', /too short/],
    [
      'a sequence too',
      `secret = "${SECRET}"\ndoor = "ssh"\nsequence = "1,2"\n`,
      /both sequence and a rotating secret/,
    ],
    [
      'a bad range',
      `secret = "${SECRET}"\ndoor = "ssh"\nports = "9-1"\n`,
      /ports must be a port range/,
    ],
    [
      'a range too small',
      `secret = "${SECRET}"\ndoor = "ssh"\nports = "100-102"\n`,
      /holds 3 ports, fewer than the 4/,
    ],
    [
      'length 40',
      `secret = "${SECRET}"\ndoor = "ssh"\nlength = 40\n`,
      /length must be a number of knocks from 2 to 32/,
    ],
  ])('%s is an error naming the profile', (_, body, message) => {
    const parsed = parseProfiles(`[hosts."h"]\n${body}`, 'c.toml');
    expect(parsed.profiles).toEqual([]);
    expect(parsed.issues.map((i) => i.message).join('\n')).toMatch(message);
  });
});

describe('knock:// URIs', () => {
  it('round-trips, IPv6 hosts in brackets, defaults left out', () => {
    const r = { ...rotatingKeys(), secret: SECRET };
    const text = formatKnockUri({ host: '2001:db8::2', rotating: r, port: 22 });
    expect(text).toBe(`knock://[2001:db8::2]?door=ssh&secret=${SECRET}&port=22`);
    expect(parseKnockUri(text).uri).toEqual({ host: '2001:db8::2', rotating: r, port: 22 });
    const other = { ...r, length: 6, step: 60, low: 2000, high: 3000, protocols: 'udp' as const };
    expect(parseKnockUri(formatKnockUri({ host: 'h', rotating: other })).uri).toEqual({
      host: 'h',
      rotating: other,
    });
  });

  it.each([
    ['https://x', /not a knock:\/\/ URI/],
    ['knock://h?door=ssh', /no secret=/],
    [`knock://h?secret=${SECRET}`, /no door=/],
    [`knock://h?door=ssh&secret=ABC`, /secret=: /],
    [`knock://h?door=ssh&secret=${SECRET}&step=0`, /step= must be/],
    [`knock://h?door=ssh&secret=${SECRET}&ports=5-1`, /ports=: /],
  ])('%s is refused: %s', (text, problem) => {
    expect(parseKnockUri(text).problem).toMatch(problem);
  });

  it('a URI pasted as the sequence of a profile form (TUI, tray) makes a rotating profile', () => {
    const uri = `knock://ssh.example.org?door=ssh&secret=${SECRET}&port=2222`;
    const result = validateDraft({ ...emptyDraft(), port: '', sequence: uri }, []);
    expect(result).toEqual({
      ok: true,
      profile: {
        host: 'ssh.example.org',
        family: 'any',
        delayMs: 0,
        port: 2222,
        rotating: { ...rotatingKeys() },
      },
    });
    const bad = validateDraft({ ...emptyDraft(), sequence: 'knock://h?door=ssh' }, []);
    expect(bad).toMatchObject({
      ok: false,
      errors: { sequence: 'the URI has no secret= parameter' },
    });
    // Editing a rotating profile without touching the sequence keeps its secret.
    const base = profile();
    const kept = validateDraft({ ...emptyDraft(), host: base.host, sequence: '' }, [], base);
    expect(kept.ok && kept.profile.rotating).toEqual(base.rotating);
  });
});
