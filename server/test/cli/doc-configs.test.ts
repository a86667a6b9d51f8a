/**
 * Issue 9 item 4: every knockd.conf in the documentation passes `knock-server check`
 * with no error and no warning. Blocks are found in every Markdown file and man page of
 * the repository: fenced `ini`/`conf` blocks, and any fenced block that has a section
 * header and a Sequence line (a `toml` block is a client profile, not a knockd.conf). Files they name (Trusted_File, One_Time_Sequences) are
 * given the README's own examples; interfaces are not looked up (another host's).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue } from '@knock/shared';
import { validateConfigFile } from '../../src/cli/check.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

function docs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.') || entry.name === 'dist')
      return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return docs(path);
    return /\.(md|[1-8])$/.test(entry.name) ? [path] : [];
  });
}

interface Block {
  where: string;
  lang: string;
  text: string;
}

/** A man page's example blocks (.EX/.EE, .nf/.fi), roff escapes undone. */
function roffBlocks(path: string): Block[] {
  const found: Block[] = [];
  let open: { line: number; body: string[] } | undefined;
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (/^\.(EX|nf)\b/.test(line)) open = { line: index + 1, body: [] };
      else if (open && /^\.(EE|fi)\b/.test(line)) {
        found.push({
          where: `${relative(ROOT, path)}:${open.line}`,
          lang: '',
          text: open.body.join('\n') + '\n',
        });
        open = undefined;
      } else if (open && !line.startsWith('.') && !line.startsWith("'"))
        open.body.push(
          line
            .replace(/\\-/g, '-')
            .replace(/\\\(aq/g, "'")
            .replace(/\\&/g, '')
            .replace(/\\e/g, '\\'),
        );
    });
  return found;
}

function blocks(path: string): Block[] {
  if (/\.[1-8]$/.test(path)) return roffBlocks(path);
  const found: Block[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  let open: { lang: string; line: number; body: string[]; indent: number } | undefined;
  lines.forEach((line, index) => {
    const fence = /^(\s*)```(\w*)\s*$/.exec(line);
    if (!open && fence) {
      open = { lang: fence[2] ?? '', line: index + 1, body: [], indent: fence[1]?.length ?? 0 };
    } else if (open && /^\s*```\s*$/.test(line)) {
      found.push({
        where: `${relative(ROOT, path)}:${open.line}`,
        lang: open.lang,
        text: open.body.map((l) => l.slice(open!.indent)).join('\n') + '\n',
      });
      open = undefined;
    } else if (open) open.body.push(line);
  });
  return found;
}

const all = docs(ROOT).flatMap(blocks);
// An unlabelled block (a man page's) with [hosts."NAME"] tables is a client profile (TOML).
const isConfig = (b: Block) =>
  ['ini', 'conf', 'knockd'].includes(b.lang) ||
  (b.lang === '' &&
    /^\s*\[[^\]]+\]\s*$/m.test(b.text) &&
    /^\s*sequence\s*=/im.test(b.text) &&
    !/^\s*\[hosts\./m.test(b.text));
const configs = all.filter(isConfig);
const trustedExample = all.find((b) => b.text.includes('# let in without knocking'));

describe('the config blocks of the documentation', () => {
  it('are found (README: the seed config, the extensions, a door calling fw accept)', () => {
    expect(configs.filter((b) => b.where.startsWith('README.md')).length).toBeGreaterThanOrEqual(3);
    expect(trustedExample).toBeDefined();
  });

  it.each(configs.map((b) => [b.where, b] as const))('%s passes check', async (where, block) => {
    const { issues } = await validateConfigFile(where, {
      readFile: async (path) => {
        if (path === where) return block.text;
        if (/trusted/.test(path)) return trustedExample!.text;
        if (/\.ots$/.test(path)) return ' 1001,1002,1003\n 2001,2002,2003\n';
        throw Object.assign(new Error(`${path}: not in the docs`), { code: 'ENOENT' });
      },
      lookup: async () => ['192.0.2.10'],
      interfaceNames: async () => undefined,
      has: async () => true,
    });
    expect(issues.map(formatIssue)).toEqual([]);
  });
});
