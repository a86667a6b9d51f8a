/**
 * check.ts and config-file.ts without root and without files on disk: the one config
 * loader, the one-time-sequence files a config names, what validateConfigFile adds up,
 * and what `check` prints.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_FILE, ExitCode, KnockError } from '@knock/shared';
import { checkCommand, checkOneTimeFiles, validateConfigFile } from '../../src/cli/check.js';
import { loadConfig } from '../../src/cli/config-file.js';
import type { StartCheckDeps } from '../../src/cli/start-checks.js';

const DOOR = '[ssh]\n  Sequence = 1228,1227\n  Command = true\n';
const errno = (code: string, message = code) => Object.assign(new Error(message), { code });

/** A read function over an in-memory set of files. */
const files =
  (contents: Record<string, string | Error>) =>
  async (path: string): Promise<string> => {
    const found = contents[path];
    if (found === undefined)
      throw errno('ENOENT', `ENOENT: no such file or directory, open '${path}'`);
    if (found instanceof Error) throw found;
    return found;
  };

const HOST = (contents: Record<string, string | Error>): StartCheckDeps => ({
  readFile: files(contents),
  interfaceNames: async () => new Set(['lo', 'eth0']),
  interfaceUp: async () => true,
  pathKind: async () => 'directory',
  lookup: async () => [],
  has: async () => true,
});

describe('loadConfig (the one config loader)', () => {
  it('parses the file, keeping its text and every issue with the file name', async () => {
    const loaded = await loadConfig(
      '/etc/k.conf',
      files({ '/etc/k.conf': `${DOOR}  Bogus = 1\n` }),
    );
    expect(loaded.text).toBe(`${DOOR}  Bogus = 1\n`);
    expect(loaded.readError).toBeUndefined();
    expect(loaded.config.doors.map((d) => d.name)).toEqual(['ssh']);
    expect(loaded.issues.length).toBeGreaterThan(0);
    expect(loaded.issues.every((i) => i.file === '/etc/k.conf')).toBe(true);
  });

  it('a missing file is one issue saying how to point to another, not a throw', async () => {
    const loaded = await loadConfig('/etc/nope.conf', files({}));
    expect(loaded.text).toBeUndefined();
    expect((loaded.readError as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(loaded.config).toEqual({ options: { useSyslog: false }, doors: [] });
    expect(loaded.issues).toEqual([
      {
        severity: 'error',
        code: 'config.unreadable',
        message: 'cannot read the config file: no such file',
        hint: `create it, or point to another one with -c (default ${DEFAULT_CONFIG_FILE})`,
        file: '/etc/nope.conf',
        line: 0,
        column: 0,
      },
    ]);
  });

  it('an unreadable file says why and what to check', async () => {
    const denied = errno('EACCES', "EACCES: permission denied, open '/etc/k.conf'");
    const loaded = await loadConfig('/etc/k.conf', files({ '/etc/k.conf': denied }));
    expect(loaded.readError).toBe(denied);
    expect(loaded.issues[0]).toMatchObject({
      message: "cannot read the config file: EACCES: permission denied, open '/etc/k.conf'",
      hint: 'check its permissions (knock-server usually runs as root)',
    });
  });
});

describe('loadConfig and rotating doors', () => {
  const ROTATING =
    '[ssh]\n  Sequence_Secret_File = /nonexistent/knock-test/ssh.secret\n  Open_Ports = 22/tcp\n';

  it('reads each Sequence_Secret_File: a missing one is an error at its line', async () => {
    const loaded = await loadConfig('/etc/k.conf', files({ '/etc/k.conf': ROTATING }));
    expect(loaded.issues).toMatchObject([
      {
        severity: 'error',
        code: 'config.rotating.secretFile',
        message:
          "door 'ssh': Sequence_Secret_File: the secret file /nonexistent/knock-test/ssh.secret does not exist",
        line: 2,
      },
    ]);
  });

  it('with secrets: false (fw) it parses only, and reads no secret file', async () => {
    const loaded = await loadConfig('/etc/k.conf', files({ '/etc/k.conf': ROTATING }), {
      secrets: false,
    });
    expect(loaded.issues).toEqual([]);
    expect(loaded.config.doors[0]?.openPorts).toEqual([{ port: 22, protocol: 'tcp' }]);
    expect(loaded.config.doors[0]?.rotating?.secret).toBeUndefined();
  });
});

describe('checkOneTimeFiles', () => {
  const config = async (text: string) =>
    (await loadConfig('/etc/k.conf', files({ '/etc/k.conf': text }))).config;
  const OTS = '[ots]\n  One_Time_Sequences = /etc/ssh.ots\n  Command = true\n';

  it('a file with unused sequences is fine; a config without one-time doors reads nothing', async () => {
    expect(
      await checkOneTimeFiles(
        await config(OTS),
        '/etc/k.conf',
        files({ '/etc/ssh.ots': '1,2,3\n' }),
      ),
    ).toEqual([]);
    expect(
      await checkOneTimeFiles(await config(DOOR), '/etc/k.conf', async () => {
        throw new Error('read');
      }),
    ).toEqual([]);
  });

  it('a missing, unreadable or used-up file is an error at the door line', async () => {
    const c = await config(`${DOOR}${OTS}`);
    const [missing] = await checkOneTimeFiles(c, '/etc/k.conf', files({}));
    expect(missing).toMatchObject({
      code: 'config.ots.unreadable',
      message: 'door [ots]: cannot read the one-time-sequences file /etc/ssh.ots: no such file',
      file: '/etc/k.conf',
      line: 4,
    });
    const [denied] = await checkOneTimeFiles(
      c,
      '/etc/k.conf',
      files({ '/etc/ssh.ots': errno('EACCES', 'EACCES: permission denied') }),
    );
    expect(denied?.message).toBe(
      'door [ots]: cannot read the one-time-sequences file /etc/ssh.ots: EACCES: permission denied',
    );
    const [used] = await checkOneTimeFiles(
      c,
      '/etc/k.conf',
      files({ '/etc/ssh.ots': '#1,2,3\n# a comment\n' }),
    );
    expect(used).toMatchObject({ code: 'config.ots.empty', line: 4 });
    expect(used?.hint).toContain('knock-server ots generate');
  });
});

describe('validateConfigFile', () => {
  it('an unreadable config stops there: no other check runs', async () => {
    const v = await validateConfigFile('/etc/nope.conf', HOST({}));
    expect(v.issues.map((i) => i.code)).toEqual(['config.unreadable']);
    expect(v.notChecked).toEqual([]);
  });

  it('adds the one-time files and the start checks; lints only a config without errors', async () => {
    const never = `${DOOR}[copy]\n  Sequence = 1228,1227\n  Command = true\n`;
    const lint = await validateConfigFile('/etc/k.conf', HOST({ '/etc/k.conf': never }));
    const broken = await validateConfigFile(
      '/etc/k.conf',
      HOST({ '/etc/k.conf': `${never}[bad]\n  Sequence = nope\n` }),
    );
    const lintCodes = lint.issues.filter((i) => i.severity === 'warning').map((i) => i.code);
    expect(lintCodes).toEqual(['config.door.sameSequence']);
    expect(broken.issues.some((i) => i.severity === 'error')).toBe(true);
    for (const code of lintCodes) expect(broken.issues.map((i) => i.code)).not.toContain(code);
  });
});

describe('knock-server check', () => {
  async function run(contents: Record<string, string>, args: string[]) {
    const out: string[] = [];
    const command = checkCommand({
      stdout: (t) => void out.push(t),
      stderr: (t) => void out.push(t),
      startChecks: HOST(contents),
    }).exitOverride();
    try {
      await command.parseAsync(args, { from: 'user' });
      return { code: 0, out: out.join(''), message: '' };
    } catch (error) {
      if (!(error instanceof KnockError)) throw error;
      return { code: error.exitCode, out: out.join(''), message: error.message };
    }
  }

  it('prints OK with the number of doors (and warnings), then what it could not check', async () => {
    const two = await run({ '/k.conf': `${DOOR}[web]\n  Sequence = 8000\n  Command = true\n` }, [
      '-c',
      '/k.conf',
    ]);
    expect(two.code).toBe(0);
    expect(two.out).toMatch(/^\/k\.conf: OK, 2 doors\n/m);
    expect(two.out).toContain('  not checked here: ');
  });

  it('errors: every issue as file:line:col, then exit 1 counting errors and warnings', async () => {
    const r = await run({ '/k.conf': '[ssh]\n  Sequence = nope\n' }, ['-c', '/k.conf']);
    expect(r.code).toBe(ExitCode.failure);
    expect(r.out).toMatch(/^\/k\.conf:2:\d+: error: /m);
    expect(r.message).toMatch(
      /^\/k\.conf: \d+ errors?(, \d+ warnings?)?: knock-server would not start/,
    );
  });

  it('a missing config names the default with -c', async () => {
    const r = await run({}, ['-c', '/nope.conf']);
    expect(r.code).toBe(ExitCode.failure);
    expect(r.out).toContain('/nope.conf: error: cannot read the config file: no such file');
    expect(r.message).toBe('/nope.conf: 1 error: knock-server would not start with this config');
  });
});
