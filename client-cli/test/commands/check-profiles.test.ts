import { describe, expect, it } from 'vitest';
import { run } from '../helpers/fake-deps.js';

const FILE = '/home/u/.config/knock/config.toml';

// Three profiles: one good, one with three problems, one good after it.
const mixed = [
  '# my profiles',
  '[hosts.good]',
  'sequence = "1228,1227"',
  'port = 22',
  '',
  '[hosts.bad]',
  'sequence = "1228,,70000"',
  'port = 0',
  'colour = "blue"',
  '',
  '[hosts."also.good"]',
  'sequence = "7000"',
  '',
].join('\n');

describe('knock check-profiles', () => {
  it('lists every problem with file:line:col, then a summary; exit 3 on errors', async () => {
    const { code, stdout } = await run(['check-profiles'], { profileText: mixed });
    expect(code).toBe(3);
    expect(stdout.split('\n').filter((l) => /^\//.test(l))).toEqual([
      expect.stringMatching(
        new RegExp(`^${FILE}:7:18: error: \\[hosts."bad"\\] sequence: empty element`),
      ),
      expect.stringMatching(
        new RegExp(`^${FILE}:7:19: error: \\[hosts."bad"\\] sequence: port 70000`),
      ),
      `${FILE}:8:8: error: [hosts."bad"]: port must be a port number from 1 to 65535, not 0`,
      `${FILE}:9:1: warning: [hosts."bad"]: unknown key "colour" (ignored)`,
      `${FILE}: 3 profiles: 2 usable, 1 with errors (skipped); 3 errors, 1 warning`,
    ]);
  });

  it('says OK for a good file (exit 0); --strict fails on warnings', async () => {
    const good = '[hosts.a]\nsequence = "1"\n';
    expect(await run(['check-profiles'], { profileText: good })).toMatchObject({
      code: 0,
      stdout: `${FILE}: OK, 1 profile: 1 usable\n`,
    });
    const warned = `${good}note = "x"\n`;
    expect((await run(['check-profiles'], { profileText: warned })).code).toBe(0);
    expect((await run(['check-profiles', '--strict'], { profileText: warned })).code).toBe(3);
  });

  it('a file named with -c that does not exist is an error (3); the default one is not', async () => {
    const named = await run(['check-profiles', '-c', '/tmp/missing.toml']);
    expect(named.code).toBe(3);
    expect(named.stderr).toContain('the profile file /tmp/missing.toml does not exist');
    const defaulted = await run(['check-profiles']);
    expect(defaulted).toMatchObject({
      code: 0,
      stdout: `no profile file at ${FILE}: nothing to check\n`,
    });
  });
});

describe('one bad profile makes only itself unusable (issue 9, item 11)', () => {
  it('knocks another host of the file, with one warning about the bad profile', async () => {
    const { code, stderr, f } = await run(['good'], { profileText: mixed });
    expect(code).toBe(0);
    expect(f.sends[0]?.knocks.map((k) => k.port)).toEqual([1228, 1227]);
    expect(stderr).toContain(
      `knock: ${FILE}:7:18: warning: the profile for bad is skipped: [hosts."bad"] sequence: empty element`,
    );
    expect(stderr).toContain('knock check-profiles lists every problem of the file');
  });

  it('knocking the bad profile names all its problems, exit 3 (not 4, "no profile")', async () => {
    const { code, stderr, f } = await run(['bad'], { profileText: mixed });
    expect(code).toBe(3);
    expect(f.sends).toEqual([]);
    expect(stderr).toContain(`the profile for bad in ${FILE} cannot be used:`);
    expect(stderr).toContain(`  ${FILE}:7:18: error:`);
    expect(stderr).toContain(`  ${FILE}:7:19: error:`);
    expect(stderr).toContain(`  ${FILE}:8:8: error:`);
  });
});

describe('keys named like Object.prototype properties (issue 9, item 16)', () => {
  const text = [
    '[hosts.h]',
    'sequence = "1228"',
    'constructor = 1',
    'toString = "x"',
    '',
    '[hosts.h.__proto__]',
    'x = 1',
    '',
    '[hosts.constructor]',
    'sequence = "7000"',
    '__proto__ = 2',
    '',
  ].join('\n');

  it('knock list shows the profiles and warns about each unknown key (no crash, exit 0)', async () => {
    const { code, stdout, stderr } = await run(['list'], { profileText: text });
    expect(code).toBe(0);
    expect(stdout).toContain('  h ');
    expect(stdout).toContain('  constructor ');
    for (const [line, host, key] of [
      [3, 'h', 'constructor'],
      [4, 'h', 'toString'],
      [6, 'h', '__proto__'],
      [11, 'constructor', '__proto__'],
    ] as const)
      expect(stderr).toContain(
        `${FILE}:${line}:1: warning: [hosts."${host}"]: unknown key "${key}"`,
      );
    expect(stderr).not.toContain('internal error');
  });

  it('knocks such a host, and check-profiles reports the keys', async () => {
    expect((await run(['constructor'], { profileText: text })).code).toBe(0);
    const { code, stdout } = await run(['check-profiles'], { profileText: text });
    expect(code).toBe(0);
    expect(stdout).toContain('2 profiles: 2 usable; 0 errors, 4 warnings');
  });
});
