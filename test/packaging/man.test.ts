/**
 * The man pages in packaging/man/: the committed files are what scripts/gen-man.mjs
 * makes from the built programs and README.md today (so --help, the README and the
 * pages cannot drift apart), each renders with `man -l` and `groff -ww` without a
 * warning, and each documents every subcommand / directive its source has.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_DIRECTIVES, DOOR_DIRECTIVES, OPTIONS_DIRECTIVES } from '@knock/shared';
import { walkCommands, type CommandSpec } from '@knock/shared/cli-docs';
import { buildAll, knockBin, root, run, serverBin, which } from './tools.js';

const PAGES = ['knock.1', 'knock-server.8', 'knockd.conf.5'];
const page = (name: string) => join(root, 'packaging', 'man', name);
/** What man shows, as plain text (overstriking removed). */
const rendered = async (name: string) =>
  (
    await run(['man', '-l', '-Tutf8', page(name)], {
      env: { ...process.env, MANWIDTH: '200', MAN_KEEP_FORMATTING: '', LC_ALL: 'C.UTF-8' },
    })
  ).stdout
    .replaceAll(new RegExp(`.${String.fromCharCode(8)}`, 'g'), '')
    .replace(/\u2010/g, '-');

beforeAll(buildAll, 120_000);

describe('man pages', () => {
  it('the committed pages are up to date (node scripts/gen-man.mjs --check)', async () => {
    const result = await run([process.execPath, join(root, 'scripts', 'gen-man.mjs'), '--check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it.skipIf(!which('groff'))(
    'groff -ww and man -l render each page without a warning',
    async () => {
      for (const name of PAGES) {
        const groff = await run(['groff', '-ww', '-man', '-z', '-Tutf8', page(name)]);
        expect({ name, stderr: groff.stderr, code: groff.code }).toEqual({
          name,
          stderr: '',
          code: 0,
        });
        const man = await run(['man', '--warnings', '-l', '-Tutf8', page(name)], {
          env: { ...process.env, MANWIDTH: '80', LC_ALL: 'C.UTF-8' },
        });
        expect({ name, stderr: man.stderr, code: man.code }).toEqual({ name, stderr: '', code: 0 });
        expect(man.stdout.length).toBeGreaterThan(1000);
      }
    },
  );

  it.each([
    ['knock.1', knockBin],
    ['knock-server.8', serverBin],
  ])('%s shows every subcommand and option of the program', async (name, bin) => {
    const spec = JSON.parse(
      (await run([process.execPath, bin, 'completion', 'json'])).stdout,
    ) as CommandSpec;
    const text = await rendered(name);
    for (const { path, command } of walkCommands(spec)) {
      if (path.includes('help')) continue;
      expect(text).toContain([spec.name, ...path].join(' '));
      for (const option of command.options) expect(text).toContain(option.flags);
    }
    expect(text).toMatch(/EXIT CODES/);
  });

  it('knockd.conf(5) documents every directive the parser knows and marks the extensions', async () => {
    const text = await rendered('knockd.conf.5');
    for (const directive of [...OPTIONS_DIRECTIVES, ...DOOR_DIRECTIVES])
      expect(text).toMatch(new RegExp(`^ {7}.*\\b${directive}\\b`, 'm'));
    const marks = text.replace(/\s+/g, ' ').match(/\(Extension: knock-server only/g) ?? [];
    // One mark per extension directive (each has its own row).
    expect(marks.length).toBe(EXTENSION_DIRECTIVES.length);
    const source = readFileSync(page('knockd.conf.5'), 'utf8');
    expect(source).toMatch(/^\.TH KNOCKD\.CONF 5 /m);
  });
});
