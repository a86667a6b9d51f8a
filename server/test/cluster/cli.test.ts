import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, KnockError, parseConfig } from '@knock/shared';
import { createProgram } from '../../src/cli/program.js';
import { clusterCommand, clusterFirewallForCli, formatStatus } from '../../src/cluster/cli.js';
import { formatEntries } from '../../src/firewall/format.js';
import { MemoryFirewall } from './memory-firewall.js';

describe('clusterFirewallForCli', () => {
  const config = parseConfig('[options]\n  Cluster = unix:///nonexistent/redis.sock\n').config;

  it('without a cluster, the local firewall as it is', async () => {
    const local = new MemoryFirewall();
    expect(await clusterFirewallForCli()(local, parseConfig('').config)).toBe(local);
  });

  it('store unreachable: additions on this node with a warning, removals refused (exit 15) and nothing changed', async () => {
    const local = new MemoryFirewall();
    const errors: string[] = [];
    const fw = await clusterFirewallForCli({ stderr: (t) => errors.push(t) })(local, config);
    await fw.grant('192.0.2.7', [{ port: 22, protocol: 'tcp' }], 60);
    expect(local.grantLeft('192.0.2.7')).toBeDefined();
    expect(errors.join('')).toMatch(
      /cannot reach the cluster store at unix:\/\/\/nonexistent\/redis.sock.*: this node only/,
    );
    const refused = await fw.flushGrants().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(KnockError);
    expect((refused as KnockError).exitCode).toBe(ExitCode.cluster);
    expect((refused as KnockError).message).toMatch(/flush filter not done/);
    expect(local.grantLeft('192.0.2.7')).toBeDefined();
  });
});

describe('formatStatus', () => {
  it('one line per node: alive or LOST, heartbeat age, expiry, lag', () => {
    const now = 1_000_000;
    const text = formatStatus(
      {
        url: 'redis://10.0.0.5:6379/0',
        version: '7.0.15',
        reachable: true,
        rttMs: 0.42,
        prefix: 'knock:lab:',
      },
      [
        {
          name: 'a',
          heartbeat: {
            node: 'a',
            pid: 10,
            version: '0.1.0',
            started: 0,
            at: now - 800,
            lagMs: 1.5,
            entries: 3,
          },
          expiresInMs: 5200,
        },
        {
          name: 'b',
          heartbeat: { node: 'b', pid: 11, version: '0.1.0', started: 0, at: now - 9000 },
          expiresInMs: -9000,
        },
        {
          name: 'c',
          heartbeat: {
            node: 'c',
            pid: 12,
            version: '0.1.0',
            started: 0,
            at: now - 2000,
            stopped: true,
          },
          expiresInMs: -2000,
        },
      ],
      now,
    );
    expect(text).toBe(
      [
        'store:   redis://10.0.0.5:6379/0 (Redis 7.0.15), reachable, round trip 0.4 ms',
        'keys:    knock:lab:*',
        'nodes:',
        '  node  state    last heartbeat  expires   fan-out lag  entries  pid  version',
        '  a     alive    0.8 s ago       in 5.2 s  1.5 ms       3        10   0.1.0',
        '  b     LOST     9.0 s ago       expired   -            -        11   0.1.0',
        '  c     stopped  2.0 s ago       expired   -            -        12   0.1.0',
        '',
      ].join('\n'),
    );
  });
});

describe('formatEntries on a cluster node', () => {
  it('names the node and door of each entry, and those not applied here', () => {
    expect(
      formatEntries([
        {
          kind: 'grant',
          address: '192.0.2.7',
          port: { port: 22, protocol: 'tcp' },
          remaining: 59,
          node: 'a',
          door: 'ssh',
        },
        { kind: 'ban', address: '192.0.2.66', node: 'b', here: false },
        { kind: 'grant', address: '192.0.2.8', port: { port: 22, protocol: 'tcp' }, remaining: 5 },
      ]),
    ).toBe(
      [
        'grant  192.0.2.7   22/tcp  59s left  node a door ssh',
        'ban    192.0.2.66  -       forever   node b (not applied on this node)',
        'grant  192.0.2.8   22/tcp  5s left   node ? (not in the cluster)',
        '',
      ].join('\n'),
    );
  });
});

describe('cluster status -c FILE, wherever -c is written', () => {
  it.each([[['cluster', 'status', '-c', 'FILE']], [['-c', 'FILE', 'cluster', 'status']]])(
    '%j reads FILE (its store is asked, not /etc/knockd.conf)',
    async (args) => {
      const dir = mkdtempSync(join(tmpdir(), 'knock-cluster-cli-'));
      const file = join(dir, 'k.conf');
      writeFileSync(file, '[options]\n  Cluster = unix:///nonexistent/redis.sock\n');
      const out: string[] = [];
      const program = createProgram({
        version: '0',
        stdout: (t) => void out.push(t),
        stderr: (t) => void out.push(t),
        runServer: () => Promise.reject(new Error('no daemon here')),
        extraCommands: [
          clusterCommand({ stdout: (t) => void out.push(t), stderr: (t) => void out.push(t) }),
        ],
      });
      const error = await program
        .parseAsync(
          args.map((a) => (a === 'FILE' ? file : a)),
          { from: 'user' },
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      rmSync(dir, { recursive: true, force: true });
      expect(error).toBeInstanceOf(KnockError);
      expect((error as KnockError).exitCode).toBe(ExitCode.cluster);
      expect((error as KnockError).message).toContain('unix:///nonexistent/redis.sock');
    },
  );
});

describe('cluster status: the config through the one loader', () => {
  async function run(text: string | undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'knock-cluster-cfg-'));
    const file = join(dir, 'k.conf');
    if (text !== undefined) writeFileSync(file, text);
    const err: string[] = [];
    const error = await clusterCommand({ stdout: () => undefined, stderr: (t) => void err.push(t) })
      .parseAsync(['status', '-c', file], { from: 'user' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    rmSync(dir, { recursive: true, force: true });
    expect(error).toBeInstanceOf(KnockError);
    return { error: error as KnockError, stderr: err.join(''), file };
  }

  it('a missing file: exit 3 (config), naming the file and the errno', async () => {
    const { error, file } = await run(undefined);
    expect(error.exitCode).toBe(ExitCode.config);
    expect(error.message).toBe(`cannot read config ${file} (ENOENT)`);
  });

  it('a config with errors: each issue with its line, then the refusal', async () => {
    const { error, stderr } = await run(
      '[options]\n  Cluster = unix:///x.sock\n[d]\n  sequence = 99999\n',
    );
    expect(error.code).toBe('cluster.configInvalid');
    expect(error.exitCode).toBe(ExitCode.config);
    expect(stderr).toMatch(/k\.conf:4/);
  });

  it('a config without Cluster =: says what to add', async () => {
    const { error } = await run('[d]\n  sequence = 1,2\n  command = true\n');
    expect(error.code).toBe('cluster.none');
    expect(error.hint).toMatch(/Cluster = redis:\/\//);
  });

  it('a rotating door whose secret file is missing does not stop it (cluster reads no secret)', async () => {
    const { error } = await run(
      '[options]\n  Cluster = unix:///nonexistent/redis.sock\n[r]\n  Sequence_Secret_File = /nonexistent/secret\n  command = true\n',
    );
    expect(error.exitCode).toBe(ExitCode.cluster);
  });
});
