import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deriveSequence,
  formatSecret,
  KnockError,
  parseConfig,
  parseKnockUri,
  profileSpec,
  rotatingSpec,
} from '@knock/shared';
import { loadRotatingSecrets } from '@knock/shared/node';
import { parseProfiles } from '@knock/shared/profiles';
import { createProgram } from '../../src/cli/program.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'knock-secret-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
let fill = 1;
beforeEach(() => {
  fill = 1;
});

async function run(...args: string[]) {
  const out: string[] = [];
  const program = createProgram({
    version: '0',
    stdout: (t) => out.push(t),
    stderr: () => undefined,
    runServer: () => Promise.resolve(),
    randomBytes: (n) => Uint8Array.from({ length: n }, () => fill++),
    now: () => NOW,
  });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { code: 0, out: out.join(''), message: '' };
  } catch (error) {
    if (error instanceof CommanderError || error instanceof KnockError)
      return { code: error.exitCode, out: out.join(''), message: error.message };
    throw error;
  }
}

/** The lines between `start` and the next blank line. */
const block = (out: string, start: string) => {
  const lines = out.split('\n');
  const at = lines.findIndex((l) => l.startsWith(start));
  const end = lines.indexOf('', at);
  return lines.slice(at, end).join('\n');
};

describe('knock-server secret new', () => {
  it('writes a 0600 secret file and prints door lines, profile lines and a URI that all derive the same sequences', async () => {
    const file = join(dir, 'ssh.secret');
    const r = await run(
      'secret',
      'new',
      'ssh',
      '--file',
      file,
      '--length',
      '5',
      '--step',
      '60',
      '--ports',
      '20000-29999',
      '--host',
      'ssh.example.org',
      '--port',
      '22',
    );
    expect(r.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const secret = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
    expect(readFileSync(file, 'utf8')).toContain(formatSecret(secret));

    // The door lines are a valid knockd.conf door, secret file included.
    const conf = parseConfig(block(r.out, '[ssh]'), 'k.conf');
    expect(conf.issues).toEqual([]);
    expect(await loadRotatingSecrets(conf.config, 'k.conf')).toEqual([]);
    const door = conf.config.doors[0]!;
    expect(door.openPorts).toEqual([{ port: 22, protocol: 'tcp' }]);

    // The profile lines are a valid profile.
    const profiles = parseProfiles(block(r.out, '[hosts.'), 'c.toml');
    expect(profiles.issues).toEqual([]);
    const profile = profiles.profiles[0]!;
    expect(profile).toMatchObject({ host: 'ssh.example.org', port: 22 });

    // The URI carries the same.
    const uriText = /knock import '([^']+)'/.exec(r.out)?.[1] ?? '';
    const uri = parseKnockUri(uriText).uri!;
    expect(uri).toMatchObject({ host: 'ssh.example.org', port: 22 });

    const server = deriveSequence(
      rotatingSpec('ssh', door.rotating!, door.rotating!.secret!),
      6,
      123,
    );
    expect(deriveSequence(profileSpec(profile.rotating!, secret), 6, 123)).toEqual(server);
    expect(deriveSequence(profileSpec(uri.rotating, secret), 6, 123)).toEqual(server);
    expect(server).toHaveLength(5);

    // And a QR code of it.
    expect(r.out).toMatch(/Or scan it[^\n]*\n\n[█▀▄ ]+\n/);
  });

  it('refuses to replace an existing secret without --force, and says how to rotate', async () => {
    const file = join(dir, 'ssh.secret');
    writeFileSync(file, 'old', { mode: 0o600 });
    const r = await run('secret', 'new', 'ssh', '--file', file);
    expect(r.code).not.toBe(0);
    expect(r.message).toContain('exists already');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect((await run('secret', 'new', 'ssh', '--file', file, '--force', '--no-qr')).code).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toBe('old');
  });

  it.each([
    [['--length', '1'], /--length takes a whole number from 2 to 32/],
    [['--step', '0'], /--step takes a whole number from 1 to 86400/],
    [['--ports', '100-50'], /low first/],
    [['--length', '6', '--ports', '40000-40004'], /holds 5 ports, fewer than the 6/],
  ])('rejects %j before writing anything', async (args, message) => {
    const file = join(dir, 'x.secret');
    const r = await run('secret', 'new', 'ssh', '--file', file, ...args);
    expect(r.code).not.toBe(0);
    expect(r.message).toMatch(message);
    expect(existsSync(file)).toBe(false);
  });
});

describe('knock-server secret rotate', () => {
  it('moves the old secret aside and prints the grace-period lines', async () => {
    const file = join(dir, 'ssh.secret');
    await run('secret', 'new', 'ssh', '--file', file, '--no-qr');
    const old = readFileSync(file, 'utf8');
    const r = await run('secret', 'rotate', 'ssh', '--file', file, '--grace', '48', '--no-qr');
    expect(r.code).toBe(0);
    expect(readFileSync(`${file}.previous`, 'utf8')).toBe(old);
    expect(readFileSync(file, 'utf8')).not.toBe(old);
    const conf = parseConfig(block(r.out, '[ssh]'), 'k.conf');
    expect(conf.issues).toEqual([]);
    expect(await loadRotatingSecrets(conf.config, 'k.conf')).toEqual([]);
    expect(conf.config.doors[0]!.rotating!.previousUntil).toBe(NOW + 48 * 3_600_000);
  });

  it('refuses to rotate a missing secret', async () => {
    const r = await run('secret', 'rotate', 'ssh', '--file', join(dir, 'none'));
    expect(r.code).not.toBe(0);
    expect(r.message).toMatch(/cannot rotate .*none: it does not exist/);
  });
});

describe('knock-server check with rotating doors', () => {
  it('accepts a good door, and names the door and line of a loose secret file', async () => {
    const file = join(dir, 'ssh.secret');
    await run('secret', 'new', 'ssh', '--file', file, '--no-qr');
    const conf = join(dir, 'knockd.conf');
    writeFileSync(conf, `[ssh]\n  Sequence_Secret_File = ${file}\n  Open_Ports = 22/tcp\n`);
    const ok = await run('check', '-c', conf);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('OK, 1 door');
    chmodSync(file, 0o644);
    const loose = await run('check', '-c', conf);
    expect(loose.code).not.toBe(0);
    expect(loose.out).toContain(
      `${conf}:2: error: door 'ssh': Sequence_Secret_File: the secret file ${file} is readable or writable by others (mode 0644)`,
    );
  });
});
