/**
 * Issue 9 items 2 and 14: every option documented for a knock-server subcommand, in every
 * position commander accepts, either reaches the subcommand or is refused with a message
 * naming it; and every subcommand's --help lists its own options.
 *
 * The table is generated from the real program (createProgram with the real `fw` and
 * `install-service` commands), so a new subcommand or option is covered without editing
 * this file, except for a sample value (the test fails until one is given).
 */
import type { Command } from 'commander';
import { CommanderError, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import { createProgram, leaves } from '../../src/cli/program.js';
import { leafOptions } from '../../src/cli/leaf-options.js';
import { fwCommand } from '../../src/cli/fw.js';
import { installServiceCommand } from '../../src/cli/install-service.js';
import { clusterCommand } from '../../src/cluster/cli.js';
import { metricsCommand, statusCommand } from '../../src/cli/status.js';

/** A value to give each option, and what the subcommand must then see. */
const SAMPLES: Record<string, { text?: string; value: unknown }> = {
  config: { text: '/srv/knock/a.conf', value: '/srv/knock/a.conf' },
  port: { text: '443/tcp', value: [{ port: 443, protocol: 'tcp' }] },
  backend: { text: 'iptables', value: 'iptables' },
  chainPrefix: { text: 'ssh', value: 'ssh' },
  dryRun: { value: true },
  for: { text: '60', value: 60 },
  all: { value: true },
  json: { value: true },
  count: { text: '7', value: 7 },
  length: { text: '4', value: 4 },
  udpRatio: { text: '0.5', value: 0.5 },
  minPort: { text: '2000', value: 2000 },
  maxPort: { text: '3000', value: 3000 },
  force: { value: true },
  strict: { value: true },
  socket: { text: '/run/k.sock', value: '/run/k.sock' },
  watch: { value: true },
  file: { text: '/srv/knock/ssh.secret', value: '/srv/knock/ssh.secret' },
  step: { text: '60', value: 60 },
  ports: { text: '20000-29999', value: { low: 20000, high: 29999 } },
  protocols: { text: 'mixed', value: 'mixed' },
  host: { text: 'ssh.example.org', value: 'ssh.example.org' },
  qr: { value: false },
  grace: { text: '12', value: 12 },
};

/** Where an option of the same name takes another kind of value (secret's --port is one port). */
const PATH_SAMPLES: Record<string, Record<string, { text?: string; value: unknown }>> = {
  'secret new': { port: { text: '2222', value: 2222 } },
  'secret rotate': { port: { text: '2222', value: 2222 } },
};
const sampleFor = (path: string, key: string) => PATH_SAMPLES[path]?.[key] ?? SAMPLES[key];

/** Arguments (and required options) each subcommand needs to run. */
const ARGS: Record<string, string[]> = {
  'fw accept': ['192.0.2.7'],
  'fw trust': ['198.51.100.0/24'],
  'fw drop': ['192.0.2.66'],
  'fw unban': ['192.0.2.66'],
  'fw flush': ['addr', '192.0.2.7'],
  'ots generate': ['/srv/knock/ssh.ots'],
  'cluster untrust': ['198.51.100.0/24'],
  'secret new': ['ssh'],
  'secret rotate': ['ssh'],
};
const REQUIRED: Record<string, Record<string, string>> = {
  'ots generate': { count: '5', length: '3' },
};

const STOP = new Error('stopped before the action ran');

function program() {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = (t: string) => void out.push(t);
  const stderr = (t: string) => void err.push(t);
  const program = createProgram({
    version: '0.0.0',
    stdout,
    stderr,
    runServer: () => Promise.reject(new Error('the daemon must not start in this test')),
    extraCommands: [
      fwCommand({ stdout, stderr }),
      installServiceCommand({ stdout }),
      clusterCommand({ stdout, stderr }),
      statusCommand({ stdout, stderr }),
      metricsCommand({ stdout, stderr }),
    ],
  });
  const seen: { path: string; options: Record<string, unknown> }[] = [];
  program.hook('preAction', (_p, leaf) => {
    seen.push({ path: pathOf(leaf), options: leafOptions(leaf) });
    throw STOP;
  });
  return { program, out, err, seen };
}

const pathOf = (leaf: Command): string => {
  const names: string[] = [];
  for (let c: Command | null = leaf; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
};

async function run(args: string[]) {
  const p = program();
  let code = 0;
  try {
    await p.program.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error === STOP) code = 0;
    else if (error instanceof CommanderError || error instanceof KnockError) code = error.exitCode;
    else throw error;
  }
  return { code, stderr: p.err.join(''), stdout: p.out.join(''), seen: p.seen };
}

const template = program().program;
const cases = leaves(template).flatMap((leaf) => {
  const path = pathOf(leaf);
  return leaf.options
    .filter((o) => o.long !== '--help' && o.long !== '--version')
    .flatMap((option: Option) => {
      const key = option.attributeName();
      const spellings: string[][] = [];
      const sample = sampleFor(path, key);
      const text = sample?.text;
      if (text === undefined) {
        if (option.long) spellings.push([option.long]);
        if (option.short) spellings.push([option.short]);
      } else {
        if (option.long) spellings.push([option.long, text], [`${option.long}=${text}`]);
        if (option.short) spellings.push([option.short, text]);
      }
      return spellings.map((tokens) => ({ path, key, flags: option.flags, tokens }));
    });
});

describe('every documented option of every subcommand, in every position', () => {
  it('covers every subcommand (the table is generated from the program)', () => {
    const paths = new Set(cases.map((c) => c.path));
    for (const expected of [
      'check',
      'ots generate',
      'install-service',
      'fw setup',
      'fw accept',
      'cluster status',
      'cluster untrust',
      'status',
      'metrics',
      'secret new',
      'secret rotate',
    ])
      expect(paths).toContain(expected);
    for (const c of cases)
      expect(sampleFor(c.path, c.key), `a sample value for ${c.path} --${c.key}`).toBeDefined();
  });

  it.each(cases)('$path $tokens', async ({ path, key, tokens }) => {
    const names = path.split(' ');
    const required = Object.entries(REQUIRED[path] ?? {})
      .filter(([k]) => k !== key)
      .flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]);
    const tail = [...(ARGS[path] ?? []), ...required];
    const expected = sampleFor(path, key)!.value;
    // Right before each word of `knock-server fw setup`, right after the last one (before
    // the arguments), and after everything.
    const positions: string[][] = names.map((_, i) => [
      ...names.slice(0, i),
      ...tokens,
      ...names.slice(i),
      ...tail,
    ]);
    positions.push([...names, ...tokens, ...tail], [...names, ...tail, ...tokens]);
    for (const [i, args] of positions.entries()) {
      const r = await run(args);
      const where = `knock-server ${args.join(' ')}`;
      if (r.seen.length === 1) {
        expect(r.seen[0]!.path, where).toBe(path);
        // It ran: it must have the value given, not a default from elsewhere.
        expect(r.seen[0]!.options[key], where).toEqual(expected);
      } else {
        // Refused: exit 2 and a message naming the option.
        expect(r.code, where).toBe(ExitCode.usage);
        expect(r.stderr, where).toContain(tokens[0]!.split('=')[0]);
      }
      // After the subcommand's own name it always works.
      if (i >= names.length) expect(r.seen.length, where).toBe(1);
    }
  });
});

describe('--help of every subcommand', () => {
  it.each(leaves(template).map((leaf) => ({ path: pathOf(leaf), leaf })))(
    '$path --help lists its own options and says which are required',
    async ({ path, leaf }) => {
      const r = await run([...path.split(' '), '--help']);
      expect(r.code).toBe(0);
      for (const option of leaf.options) {
        expect(r.stdout, path).toContain(option.flags);
        if (option.mandatory)
          expect(r.stdout).toMatch(new RegExp(`${option.long!}.*\\(required\\)`));
      }
    },
  );

  it('fw setup --help shows -c and --dry-run; ots generate --help marks --count and --length required', async () => {
    const setup = await run(['fw', 'setup', '--help']);
    expect(setup.stdout).toContain('-c, --config <file>');
    expect(setup.stdout).toContain('--dry-run');
    const ots = await run(['ots', 'generate', '--help']);
    expect(ots.stdout).toMatch(/--count <n>.*\(required\)/);
    expect(ots.stdout).toMatch(/--length <l>.*\(required\)/);
  });

  it('`knock-server help check` is `knock-server check --help`', async () => {
    const viaHelp = await run(['help', 'check']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe((await run(['check', '--help'])).stdout);
  });

  it('check and ots have examples', async () => {
    for (const path of [['check'], ['ots'], ['ots', 'generate']]) {
      const r = await run([...path, '--help']);
      expect(r.stdout, path.join(' ')).toMatch(/Examples:\n\s+knock-server /);
    }
  });
});

describe('a repeatable option written on both sides of the action', () => {
  it('keeps every value, in the order written', async () => {
    const r = await run([
      'fw',
      '--port',
      '22/tcp',
      'setup',
      '--port',
      '443/tcp',
      '--port',
      '53/udp',
    ]);
    expect(r.seen[0]?.options.port).toEqual([
      { port: 22, protocol: 'tcp' },
      { port: 443, protocol: 'tcp' },
      { port: 53, protocol: 'udp' },
    ]);
  });
});

describe('options of the daemon before a subcommand', () => {
  it('-c before a subcommand that reads a config is taken', async () => {
    for (const path of [
      ['check'],
      ['fw', 'setup'],
      ['install-service'],
      ['cluster', 'status'],
      ['cluster', 'untrust', '198.51.100.0/24'],
      ['status'],
      ['metrics'],
    ]) {
      const r = await run(['-c', '/srv/a.conf', ...path]);
      expect(r.seen[0]?.options.config, path.join(' ')).toBe('/srv/a.conf');
    }
  });

  it('is refused with a message, not silently ignored', async () => {
    for (const args of [
      ['-d', 'check'],
      ['-v', 'fw', 'status'],
      ['-c', '/srv/a.conf', 'ots', 'generate', '--count', '1', '--length', '1', 'f'],
    ]) {
      const r = await run(args);
      expect(r.seen, args.join(' ')).toEqual([]);
      expect(r.code).toBe(ExitCode.usage);
      expect(r.stderr).toContain(`${args[0]} is an option of the daemon`);
    }
  });
});

describe('fw -c FILE reads FILE wherever it is written (issue 9 item 2)', () => {
  it.each([
    [['fw', '--dry-run', 'setup', '-c', '/srv/a.conf']],
    [['fw', '-c', '/srv/a.conf', '--dry-run', 'setup']],
    [['fw', '--config=/srv/a.conf', 'setup', '--dry-run']],
    [['fw', 'setup', '--dry-run', '--config', '/srv/a.conf']],
    [['-c', '/srv/a.conf', 'fw', 'setup', '--dry-run']],
  ])('%j', async (args) => {
    const read: string[] = [];
    const out: string[] = [];
    const stdout = (t: string) => void out.push(t);
    const program = createProgram({
      version: '0',
      stdout,
      stderr: stdout,
      runServer: () => Promise.reject(new Error('no daemon here')),
      extraCommands: [
        fwCommand({
          stdout,
          stderr: stdout,
          detect: async () => 'nftables',
          exec: async () => ({ code: 1, stdout: '', stderr: 'no table' }),
          readFile: async (path) => {
            read.push(path);
            if (path !== '/srv/a.conf')
              throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
            return '[ssh]\n  Sequence = 1228,1227\n  Open_Ports = 2222/tcp\n';
          },
        }),
      ],
    });
    await program.parseAsync(args, { from: 'user' });
    expect(read).toEqual(['/srv/a.conf']);
    expect(out.join('')).toContain('tcp . 2222');
  });
});

describe('help states the real defaults', () => {
  it('the daemon: -i, -p, -g say what happens without them', async () => {
    const help = (await run(['--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('default: Interface, else the interface of the default route');
    expect(help).toContain('default: /var/run/knockd.pid with -d, none without');
    expect(help).toMatch(
      /-g, --logfile <file> log file \(LogFile in the config wins; default: none\)/,
    );
  });

  it('fw --backend names the whole detection order', async () => {
    const r = await run(['fw', 'setup', '--help']);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(
      'else nftables if nft exists, else iptables if iptables and ip6tables exist',
    );
  });
});
