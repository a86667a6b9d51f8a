import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, KnockError, parseOtsFile } from '@knock/shared';
import { createProgram } from '../../src/cli/program.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'knock-ots-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let next = 0;
  const program = createProgram({
    version: '0',
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    runServer: () => Promise.resolve(),
    randomInt: (max) => (next++ * 7919) % max,
  });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { code: 0, out: out.join(''), err: err.join(''), message: '' };
  } catch (error) {
    if (error instanceof CommanderError || error instanceof KnockError)
      return { code: error.exitCode, out: out.join(''), err: err.join(''), message: error.message };
    throw error;
  }
}

describe('knock-server ots generate', () => {
  it('writes N distinct sequences of L knocks that the daemon and the client can read', async () => {
    const file = join(dir, 'ssh.ots');
    const result = await run(
      'ots',
      'generate',
      '--count',
      '20',
      '--length',
      '3',
      '--udp-ratio',
      '0.5',
      file,
    );
    expect(result.code).toBe(0);
    expect(result.out).toBe(`${file}: 20 sequences of 3 knocks\n`);
    const parsed = parseOtsFile(readFileSync(file, 'utf8'));
    expect(parsed.issues).toEqual([]);
    expect(parsed.entries).toHaveLength(20);
    expect(parsed.entries.every((e) => e.knocks.length === 3)).toBe(true);
    expect(new Set(parsed.entries.map((e) => JSON.stringify(e.knocks))).size).toBe(20);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('never overwrites an existing file without --force, and leaves no temp file behind', async () => {
    const file = join(dir, 'ssh.ots');
    writeFileSync(file, ' 1,2,3\n');
    const refused = await run('ots', 'generate', '--count', '2', '--length', '2', file);
    expect(refused.code).toBe(ExitCode.otsFile);
    expect(refused.message).toBe(`${file} already exists: not overwritten`);
    expect(readFileSync(file, 'utf8')).toBe(' 1,2,3\n');
    expect(readdirSync(dir)).toEqual(['ssh.ots']);
    const forced = await run('ots', 'generate', '--count', '2', '--length', '2', '--force', file);
    expect(forced.code).toBe(0);
    expect(parseOtsFile(readFileSync(file, 'utf8')).entries).toHaveLength(2);
    expect(readdirSync(dir)).toEqual(['ssh.ots']);
  });

  it('bad or missing values are usage errors naming the flag', async () => {
    const file = join(dir, 'x.ots');
    for (const [args, text] of [
      [['--count', '0', '--length', '3'], '--count'],
      [['--count', '5', '--length', '33'], '--length'],
      [['--count', '5', '--length', '3', '--udp-ratio', '2'], '--udp-ratio'],
      [['--length', '3'], '--count'],
    ] as const) {
      const result = await run('ots', 'generate', ...args, file);
      expect(result.code, args.join(' ')).toBe(ExitCode.usage);
      expect(result.err).toContain(text);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a directory that does not exist: a clear error', async () => {
    const result = await run(
      'ots',
      'generate',
      '--count',
      '1',
      '--length',
      '1',
      join(dir, 'no', 'x.ots'),
    );
    expect(result.code).toBe(ExitCode.otsFile);
    expect(result.message).toContain('cannot write');
    // The file asked for, never the temporary one (issue 9 item 13).
    expect(result.message).toContain(`'${join(dir, 'no', 'x.ots')}'`);
    expect(result.message).not.toContain('.tmp');
  });
});
