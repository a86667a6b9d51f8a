// Every documented option of every `knock` command, in every position commander allows:
// before the subcommand, right after it, after its arguments; `--opt value`, `--opt=value`,
// `-o value`, `-ovalue`. The commands and options are read from createProgram, so a new
// subcommand or option is covered as soon as it exists (the test fails until it has a
// sample value below). issue 9 item 2.
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Command, Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '@knock/shared';
import { verifyOpen } from '@knock/shared/node';
import { createProgram, runCli, type TuiModule } from '@knock/client-cli';
import { fake, profile, tcp, type Fake } from './helpers/fake-deps.js';

/** A value for each option that takes one, different from any default and from BASE. */
const SAMPLES: Record<string, string> = {
  '--delay': '150',
  '--verify': '2222',
  '--timeout': '7',
  '--config': '/tmp/other.toml',
  '--sequence': '4000,4001:udp',
  '--count': '7',
  '--length': '4',
  '--udp-ratio': '0.5',
  '--min-port': '2000',
  '--max-port': '3000',
};

/** A rotating door's knock:// URI (knock import). */
const IMPORT_URI = (host: string) =>
  `knock://${host}?door=ssh&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&port=22`;

/** The arguments each command runs with (its required ones). `PORT`: the echo server's. */
const BASE: Record<string, string[]> = {
  knock: ['h.test'],
  'knock list': [],
  'knock ots generate': ['out.ots', '--count', '3', '--length', '2'],
  'knock ssh': ['h.test'],
  'knock proxy': ['h.test', 'PORT'],
  'knock close': ['h.test'],
  'knock ui': [],
  'knock check-profiles': [],
  'knock import': [IMPORT_URI('new.test')],
};

/** An option whose point is to make a refused base run: its own base, and the base's exit status. */
const BASE_FOR: Record<string, { args: string[]; code: number }> = {
  // h.test has a profile: import refuses to replace it without --force.
  'knock import --force': { args: [IMPORT_URI('h.test')], code: 2 },
};

/** Options that only act together with another one: what to add to the base for them. */
const NEEDS: Record<string, string[]> = {
  'knock --timeout': ['--verify'],
};

/** Options whose whole point is a failing exit status on the base arguments. */
const EXIT_CODE: Record<string, number> = {
  'knock check-profiles --strict': 3,
};

/** Commands whose options end at their first argument (the rest is passed on to ssh). */
const PASS_THROUGH = new Set(['knock ssh']);

let port = 0;
let server: Server;
beforeAll(async () => {
  server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('data', () => undefined);
    socket.on('end', () => socket.end('bye'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});
afterAll(() => server.close());

/** Runs `knock ARGS` as bin/knock.ts does, and returns everything a user could notice. */
async function observe(args: readonly string[]) {
  const f: Fake = fake({
    profiles: [
      profile('h.test', {
        sequence: [tcp(1228), tcp(1227)],
        port: 22,
        closeSequence: [tcp(9000)],
      }),
    ],
    // check-profiles reads the file's text: one unknown key, so --strict has a warning to fail on.
    ...(args.includes('check-profiles')
      ? { profileText: '[hosts."h.test"]\nsequence = "1228,1227"\nport = 22\ncolour = "blue"\n' }
      : {}),
    addresses: { 'h.test': ['127.0.0.1'] },
    sshG: { code: 0, stdout: 'host h.test\nhostname h.test\nport 22\naddressfamily any\n' },
  });
  const tuiPaths: (string | undefined)[] = [];
  f.deps.loadTui = async (): Promise<TuiModule> => ({
    runTui: async (d) => {
      tuiPaths.push(d.path);
      return 0;
    },
  });
  // The proxy relays over a real connection to the echo server.
  const probe = f.deps.verifyOpen;
  f.deps.verifyOpen = (options) =>
    options.keepSocket ? (f.verifies.push(options), verifyOpen(options)) : probe(options);
  f.deps.relayStreams = () => {
    const input = new PassThrough();
    input.end('hi');
    return { input, output: new PassThrough() };
  };
  let code = 0;
  try {
    await runCli(['node', 'knock', ...args.map((a) => a.replace('PORT', String(port)))], f.deps);
    code = f.exitCode ?? 0;
  } catch (error) {
    const described = describeError(error);
    f.err.push(`knock: ${described.text}\n`);
    code = described.exitCode;
  }
  const timing = (text: string) => text.replace(/after [\d.]+ s/g, 'after N s');
  return {
    code,
    stdout: timing(f.out.join('')),
    stderr: timing(f.err.join('')).replaceAll(String(port), 'PORT'),
    sends: f.sends.map(({ addresses, knocks, delayMs }) => ({ addresses, knocks, delayMs })),
    resolves: f.resolves,
    loads: f.loads,
    verifies: f.verifies.map(({ port: p, timeoutMs }) => ({
      port: p === port ? 'PORT' : p,
      timeoutMs,
    })),
    generated: f.generated,
    captured: f.captured,
    interactive: f.interactive,
    tuiPaths,
    profileChanges: f.profileChanges,
    secretFiles: f.secretFiles,
  };
}
type Observed = Awaited<ReturnType<typeof observe>>;

/** Nothing happened: no packet, no file read or written, nothing run. */
const inert = (o: Observed) =>
  o.sends.length +
    o.loads.length +
    o.generated.length +
    o.interactive.length +
    o.tuiPaths.length +
    o.profileChanges.length +
    o.secretFiles.length ===
  0;

interface Case {
  command: string;
  path: string[];
  option: Option;
  /** The spellings of the option with its value, each a list of words. */
  forms: string[][];
}

/** Every command that runs an action (the root and each leaf subcommand), with its path. */
function commands(root: Command): { command: Command; path: string[] }[] {
  const out: { command: Command; path: string[] }[] = [{ command: root, path: [] }];
  const walk = (c: Command, path: string[]) => {
    for (const child of c.commands) {
      const p = [...path, child.name()];
      if (child.commands.length === 0) out.push({ command: child, path: p });
      else walk(child, p);
    }
  };
  walk(root, []);
  return out;
}

function cases(): Case[] {
  const root = createProgram(fake().deps);
  return commands(root).flatMap(({ command, path }) => {
    const name = ['knock', ...path].join(' ');
    return command.options
      .filter((o) => o.long !== '--help' && o.long !== '--version')
      .map((option) => {
        const long = option.long ?? '';
        const takesValue = option.required || option.optional;
        const value = SAMPLES[long];
        if (takesValue && value === undefined)
          throw new Error(`no sample value for ${long} of ${name}: add one to SAMPLES`);
        const forms: string[][] = takesValue
          ? [[long, value ?? ''], [`${long}=${value}`]]
          : [[long]];
        if (option.short)
          forms.push(
            ...(takesValue ? [[option.short, value ?? ''], [`${option.short}${value}`]] : []),
            ...(takesValue ? [] : [[option.short]]),
          );
        return { command: name, path, option, forms };
      });
  });
}

const table = cases();

describe('every option of every knock command, in every position', () => {
  it('covers every command', () => {
    expect(new Set(table.map((c) => c.command))).toEqual(new Set(Object.keys(BASE)));
  });

  it.each(table.map((c) => [`${c.command} ${c.option.flags}`, c] as const))(
    '%s',
    async (_, { command, path, option, forms }) => {
      const long = option.long ?? '';
      const own = BASE_FOR[`${command} ${long}`];
      const base = own?.args ?? BASE[command];
      expect(base, `no BASE arguments for ${command}`).toBeDefined();
      const needs = NEEDS[`${command} ${long}`] ?? [];
      // Replace the option in the base when it is there (ots generate's required ones).
      const at = (base ?? []).indexOf(long);
      const rest =
        at === -1 ? (base ?? []) : (base ?? []).filter((_, i) => i !== at && i !== at + 1);
      const baseline = await observe([...path, ...needs, ...(base ?? [])]);
      expect(baseline.code, baseline.stderr).toBe(own?.code ?? 0);

      // The option right after its command, long form: it must change what happens.
      const canonical = await observe([...path, ...needs, ...(forms[0] ?? []), ...rest]);
      expect(canonical.code, canonical.stderr).toBe(EXIT_CODE[`${command} ${long}`] ?? 0);
      expect(canonical, `${command} ${long} does nothing`).not.toEqual(baseline);

      const positions: [string, string[]][] = [];
      for (const form of forms) {
        positions.push(['after the command', [...path, ...needs, ...form, ...rest]]);
        if (!PASS_THROUGH.has(command))
          positions.push(['after the arguments', [...path, ...needs, ...rest, ...form]]);
        if (path.length > 0)
          positions.push(['before the command', [...form, ...path, ...needs, ...rest]]);
        if (path.length > 1)
          positions.push([
            'between the commands',
            [...path.slice(0, 1), ...form, ...path.slice(1), ...needs, ...rest],
          ]);
      }
      const root = createProgram(fake().deps);
      const rootHas = root.options.some((o) => o.attributeName() === option.attributeName());
      for (const [where, args] of positions) {
        const seen = await observe(args);
        const label = `knock ${args.join(' ')} (${where})`;
        if (where === 'before the command' && rootHas) {
          // knock itself parses it there: it must reach the subcommand.
          expect(seen, label).toEqual(canonical);
        } else if (seen.code === 2) {
          // Refused: with a message naming the option, and nothing done.
          expect(seen.stderr, label).toMatch(
            new RegExp(`${long}|${option.short ?? long}`.replace(/-/g, '\\-')),
          );
          expect(inert(seen), label).toBe(true);
          expect(where, `${label} was refused`).not.toBe('after the command');
        } else {
          expect(seen, label).toEqual(canonical);
        }
      }
    },
    30_000,
  );

  it('knock -c FILE list and knock -c FILE proxy read FILE', async () => {
    for (const args of [
      ['-c', '/tmp/other.toml', 'list'],
      ['--config=/tmp/other.toml', 'list'],
      ['-c', '/tmp/other.toml', 'proxy', 'h.test', 'PORT'],
      ['--config', '/tmp/other.toml', 'proxy', 'h.test', 'PORT'],
    ]) {
      const seen = await observe(args);
      expect(seen.code, seen.stderr).toBe(0);
      expect(seen.loads, args.join(' ')).toEqual([{ path: '/tmp/other.toml' }]);
    }
  });

  it('an option of knock HOST before a subcommand that has no such option is refused, naming it', async () => {
    const seen = await observe(['-u', 'list']);
    expect(seen.code).toBe(2);
    expect(seen.stderr).toBe(
      'knock: -u, --udp is an option of knock HOST, not of knock list\n' +
        '  hint: knock list takes -c, --config <file> (see knock list --help)\n',
    );
    expect(inert(seen)).toBe(true);
  });
});
