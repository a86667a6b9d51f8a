// `--help` of every knock command, read from createProgram: its own options, which are
// required, examples, the client's exit codes only, the real --timeout default, and
// ssh_config lines that wrapping never breaks. issue 9 item 14.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '@knock/shared';
import { createProgram } from '@knock/client-cli';
import { fake, run } from './helpers/fake-deps.js';

/** Every command with its path: the root, `ots`, `ots generate`, ... */
function everyCommand(): { command: Command; path: string[] }[] {
  const out: { command: Command; path: string[] }[] = [];
  const walk = (c: Command, path: string[]) => {
    out.push({ command: c, path });
    for (const child of c.commands) walk(child, [...path, child.name()]);
  };
  walk(createProgram(fake().deps), []);
  return out;
}

const commands = everyCommand();
const named = commands.map(({ path }) => [['knock', ...path].join(' '), path] as const);

/** `knock PATH --help` at a given terminal width. */
async function help(path: readonly string[], width = 80): Promise<string> {
  const f = fake();
  const program = createProgram(f.deps);
  const all: Command[] = [];
  const walk = (c: Command) => {
    all.push(c);
    c.commands.forEach(walk);
  };
  walk(program);
  for (const c of all) c.configureOutput({ getOutHelpWidth: () => width });
  const { code, stdout } = await run([...path, '--help'], f);
  expect(code).toBe(0);
  return stdout;
}

describe('knock --help and the --help of every subcommand', () => {
  it.each(named)('%s --help lists each of its own options', async (_, path) => {
    const { command } = commands.find((c) => c.path.join(' ') === path.join(' '))!;
    const text = await help(path);
    for (const option of command.options) expect(text).toContain(option.flags);
    // Required options say so.
    for (const option of command.options.filter((o) => o.mandatory)) {
      const line = text.split('\n').find((l) => l.includes(option.flags)) ?? '';
      expect(line, option.flags).toContain('(required)');
    }
  });

  it('ots generate says that --count and --length are required', async () => {
    const text = await help(['ots', 'generate']);
    expect(text).toMatch(/--count <n> +how many sequences.*\(required\)/);
    expect(text).toMatch(/--length <l> +knocks per sequence.*\(required\)/);
  });

  it.each([[['ssh']], [['ots']], [['ots', 'generate']], [['proxy']], [['list']], [[]]])(
    'knock %j --help has examples',
    async (path) => {
      const text = await help(path);
      expect(text).toMatch(/\nExamples:\n {2}(knock|ssh) /);
    },
  );

  it("lists the client's exit codes only, each with the number knock really exits with", async () => {
    const text = await help([]);
    const listed = [...text.split('Exit codes:\n')[1]!.matchAll(/^ +(\d+) {2}/gm)].map((m) =>
      Number(m[1]),
    );
    expect(listed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14, 70]);
    for (const server of [
      ExitCode.firewall,
      ExitCode.capture,
      ExitCode.alreadyRunning,
      ExitCode.permission,
    ])
      expect(listed).not.toContain(server);
    expect(text).not.toMatch(/firewall|packet capture|pidfile|CAP_NET/);
  });

  it.each(named)(
    "%s --help: --timeout states the real default (the profile's verify_timeout_ms wins)",
    async (_, path) => {
      const text = await help(path);
      if (!text.includes('--timeout <seconds>')) return;
      expect(text.replace(/\s+/g, ' ')).toContain(
        "(default: the profile's verify_timeout_ms, else 5)",
      );
      expect(text).not.toMatch(/\(default 5\)/);
    },
  );

  it('never breaks "ProxyCommand knock proxy %h %p" across lines, at any width', async () => {
    for (const width of [40, 60, 80, 100, 120]) {
      for (const [name, path] of named) {
        const text = await help(path, width);
        const whole = text.split('knock proxy %h %p').length - 1;
        const flowing = text.replace(/\s+/g, ' ').split('knock proxy %h %p').length - 1;
        expect(whole, `${name} --help at ${width} columns`).toBe(flowing);
      }
    }
    expect(await help(['proxy'], 40)).toContain('      ProxyCommand knock proxy %h %p\n');
  });
});
