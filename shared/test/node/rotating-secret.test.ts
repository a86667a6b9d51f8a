import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatIssue, formatSecret, parseConfig, parseSecret } from '@knock/shared';
import { loadRotatingSecrets, readSecretFile, secretFileText } from '@knock/shared/node';

const dir = mkdtempSync(join(tmpdir(), 'knock-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = parseSecret('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP').secret!;

function file(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

const check = async (path: string) => {
  const { config } = parseConfig(`[ssh]\n\n  Sequence_Secret_File = ${path}\n`, 'k.conf');
  const issues = await loadRotatingSecrets(config, 'k.conf');
  return { config, issues, text: issues.map(formatIssue).join('\n') };
};

describe('secret files', () => {
  it('reads the secret after its comment lines into the door', async () => {
    const path = file('ok.secret', secretFileText(SECRET, 'door [ssh]'));
    const { config, issues } = await check(path);
    expect(issues).toEqual([]);
    expect(formatSecret(config.doors[0]!.rotating!.secret!)).toBe(formatSecret(SECRET));
  });

  it.skipIf(process.getuid?.() === 0)(
    'an unreadable file is an error naming the door and line',
    async () => {
      const path = file('locked.secret', secretFileText(SECRET, 'x'), 0o000);
      expect((await check(path)).text).toMatch(/^k\.conf:3: error: door 'ssh': .*cannot be read/);
    },
  );

  it('a path that cannot be read as a file (a directory) is an error naming the door and line', async () => {
    const { text } = await check(dir);
    expect(text).toMatch(
      /^k\.conf:3: error: door 'ssh': Sequence_Secret_File: the secret file .* is not a regular file/,
    );
  });

  it('a missing file is an error naming the door and line', async () => {
    const { text } = await check(join(dir, 'nope.secret'));
    expect(text).toMatch(
      /^k\.conf:3: error: door 'ssh': Sequence_Secret_File: the secret file .*nope\.secret does not exist/,
    );
  });

  it.each([0o644, 0o640, 0o604, 0o660])(
    'a file with mode %o is refused, like ssh refuses a loose key',
    async (mode) => {
      const path = file(`loose-${mode}.secret`, secretFileText(SECRET, 'x'), mode);
      const { text, config } = await check(path);
      expect(text).toMatch(
        /^k\.conf:3: error: door 'ssh': .*readable or writable by others \(mode 06\d\d\)/,
      );
      expect(text).toContain(`chmod 600 ${path}`);
      expect(config.doors[0]!.rotating!.secret).toBeUndefined();
    },
  );

  it('a file with a bad secret says what is wrong with it', async () => {
    const path = file('short.secret', '# x\nJBSWY3DP\n');
    expect((await check(path)).text).toMatch(/holds no valid secret: the secret is too short/);
    expect((await readSecretFile(file('empty.secret', '# only a comment\n'))).problem).toMatch(
      /empty/,
    );
  });
});
