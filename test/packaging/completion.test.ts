/**
 * `knock completion …` and `knock-server completion …` from the built binaries: each
 * script parses in its shell, registers itself, and offers what the program has. The
 * expected words come from walking the same program's `completion json` (every
 * subcommand and option, at every level), so the test follows new subcommands too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walkCommands, type CommandSpec } from '@knock/shared/cli-docs';
import { buildAll, knockBin, run, serverBin, which } from './tools.js';

const dir = mkdtempSync(join(tmpdir(), 'knock-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(buildAll, 120_000);

const programs = [
  { name: 'knock', bin: knockBin },
  { name: 'knock-server', bin: serverBin },
] as const;

async function generate(bin: string, shell: string): Promise<string> {
  const result = await run([process.execPath, bin, 'completion', shell]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

/** What bash offers for the words typed (the last one is being completed). */
async function bashOffers(script: string, words: string[]): Promise<string[]> {
  const file = join(dir, 'offer.bash');
  writeFileSync(file, script);
  const harness = [
    `source ${file}`,
    'fn=$(complete -p "$1" | sed "s/.*-F \\([^ ]*\\).*/\\1/")',
    'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))',
    '"$fn"',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const result = await run(['bash', '-c', harness, 'bash', ...words], { cwd: dir });
  expect(result.stderr).toBe('');
  return result.stdout.split('\n').filter(Boolean);
}

describe.each(programs)('$name completion', ({ name, bin }) => {
  let spec: CommandSpec;
  let bash: string;

  beforeAll(async () => {
    spec = JSON.parse(await generate(bin, 'json')) as CommandSpec;
    bash = await generate(bin, 'bash');
  }, 60_000);

  it('the JSON tree is the program: its subcommands include completion itself', () => {
    expect(spec.name).toBe(name);
    expect(spec.commands.map((c) => c.name)).toContain('completion');
  });

  it('bash -n accepts it, and sourcing it registers `complete -F … ' + name + '`', async () => {
    writeFileSync(join(dir, `${name}.bash`), bash);
    expect((await run(['bash', '-n', join(dir, `${name}.bash`)])).code).toBe(0);
    const result = await run([
      'bash',
      '-c',
      `source ${join(dir, `${name}.bash`)}; complete -p ${name}`,
    ]);
    expect(result.stdout).toMatch(new RegExp(`^complete -F _\\w+ ${name}\\n$`));
  });

  it('bash offers every subcommand and every option, at every level of the tree', async () => {
    for (const { path, command } of walkCommands(spec)) {
      if (path.includes('help')) continue;
      if (command.commands.length > 0)
        expect(await bashOffers(bash, [name, ...path, ''])).toEqual(
          expect.arrayContaining(command.commands.map((c) => c.name)),
        );
      const options = command.options.flatMap((o) => [o.short, o.long]).filter(Boolean);
      expect(await bashOffers(bash, [name, ...path, '-'])).toEqual(expect.arrayContaining(options));
    }
  }, 60_000);

  it('bash: a value after an option is not read as a subcommand; choices are offered', async () => {
    expect(await bashOffers(bash, [name, 'completion', ''])).toEqual([
      'bash',
      'zsh',
      'fish',
      'json',
    ]);
    // `-c FILE completion …`: the file name is the option's value, not a positional.
    expect(await bashOffers(bash, [name, '-c', 'x.conf', 'completion', 'z'])).toEqual(['zsh']);
    // A prefix narrows the subcommands.
    expect(await bashOffers(bash, [name, 'comp'])).toContain('completion');
  });

  it.skipIf(!which('zsh'))('zsh -n accepts it and it registers with compdef', async () => {
    const file = join(dir, `_${name}`);
    writeFileSync(file, await generate(bin, 'zsh'));
    expect((await run(['zsh', '-n', file])).code).toBe(0);
    const result = await run([
      'zsh',
      '-fc',
      `autoload -U compinit && compinit -u -d ${join(dir, 'zcompdump')} && source ${file} && print -r -- \${_comps[${name}]}`,
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toMatch(/^_\w+_completion$/);
  });

  it.skipIf(!which('zsh'))('zsh offers the subcommands, options and choices', async () => {
    const file = join(dir, `_${name}`);
    writeFileSync(file, await generate(bin, 'zsh'));
    // The completion system's functions, stubbed to print what they are given.
    const stubs = [
      'compdef() { :; }',
      '_describe() { local -a arr; arr=("${(@P)4}"); print -l -- "${arr[@]%%:*}"; }',
      'compadd() { shift; print -l -- "$@"; }',
      '_files() { print FILES; }',
      '_hosts() { print HOSTS; }',
      '_message() { :; }',
      `source ${file}`,
      'words=("$@"); CURRENT=$#',
      `_${name.replace(/-/g, '_')}_completion`,
    ].join('\n');
    const offers = async (...words: string[]) =>
      (await run(['zsh', '-fc', stubs, 'zsh', name, ...words])).stdout.split('\n').filter(Boolean);
    expect(await offers('')).toEqual(expect.arrayContaining(spec.commands.map((c) => c.name)));
    expect(await offers('completion', '')).toEqual(['bash', 'zsh', 'fish', 'json']);
    expect(await offers('-c', '')).toEqual(['FILES']);
    expect(await offers('-')).toEqual(
      expect.arrayContaining(spec.options.flatMap((o) => [o.short, o.long]).filter(Boolean)),
    );
  });

  it.skipIf(!which('fish'))(
    'fish --no-execute accepts it; fish offers the subcommands',
    async () => {
      const file = join(dir, `${name}.fish`);
      writeFileSync(file, await generate(bin, 'fish'));
      expect((await run(['fish', '--no-execute', file])).code).toBe(0);
      const result = await run(['fish', '-c', `source ${file}; complete -C '${name} '`], {
        env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir },
      });
      expect(result.stderr).toBe('');
      const offered = result.stdout.split('\n').map((l) => l.split('\t')[0]);
      expect(offered).toEqual(
        expect.arrayContaining(spec.commands.map((c) => c.name).filter((c) => c !== 'help')),
      );
      const completion = await run(
        ['fish', '-c', `source ${file}; complete -C '${name} completion '`],
        {
          env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir },
        },
      );
      expect(completion.stdout.split('\n').filter(Boolean).sort()).toEqual([
        'bash',
        'fish',
        'json',
        'zsh',
      ]);
    },
  );
});
