/**
 * Cluster nodes against a real, private redis-server (unix socket), each with an
 * in-memory firewall that expires entries like the kernel sets: fan-out, revocation,
 * reconciliation, single-use claims, faults, junk. The same code in real daemons and
 * nftables is in test/cluster (network namespaces, root).
 */
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, KnockError, type ClusterSettings } from '@knock/shared';
import { openCluster } from '../../src/cluster/connect.js';
import type { ClusterNode, FastApply } from '../../src/cluster/node.js';
import { MemoryFirewall } from './memory-firewall.js';
import { RedisServer, redisSkipReason } from './redis-server.js';

const waitFor = async (check: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return check();
};

describe.skipIf(redisSkipReason !== undefined)(
  `cluster nodes over a private redis-server${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`,
  () => {
    let redis: RedisServer;
    const open: ClusterNode[] = [];
    let clusterName = 'c0';
    let n = 0;

    interface Started {
      node: ClusterNode;
      fw: ReturnType<ClusterNode['attach']>;
      mem: MemoryFirewall;
      logs: string[];
    }

    const start = async (
      name: string,
      extra: Partial<ClusterSettings> = {},
      mem = new MemoryFirewall(),
      fast?: FastApply,
    ): Promise<Started> => {
      const logs: string[] = [];
      const node = (await openCluster(
        { cluster: redis.url, clusterName, clusterNode: name, ...extra },
        {
          log: { info: (m) => logs.push(m), error: (m) => logs.push(m) },
          version: 'test',
          background: true,
          heartbeatMs: 200,
        },
      ))!;
      open.push(node);
      const fw = node.attach(mem, fast);
      await fw.setup({ protectedPorts: [{ port: 22, protocol: 'tcp' }], trusted: [] });
      await node.reconcile();
      node.startTimers();
      return { node, fw, mem, logs };
    };

    beforeAll(async () => {
      redis = new RedisServer();
      await redis.start();
    });
    afterEach(() => {
      for (const node of open.splice(0)) node.close();
      clusterName = `c${++n}`;
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('a grant on A is on B and C with its time left, its node and door', async () => {
      const [a, b, c] = [await start('a'), await start('b'), await start('c')];
      await a.fw.grant('192.0.2.7', [{ port: 22, protocol: 'tcp' }], 300, { door: 'ssh' });
      await a.fw.grant(
        '2001:db8::7',
        [
          { port: 22, protocol: 'tcp' },
          { port: 53, protocol: 'udp' },
        ],
        300,
      );
      expect(await waitFor(() => c.mem.grantLeft('2001:db8::7', 53) !== undefined)).toBe(true);
      expect(await waitFor(() => b.mem.grantLeft('192.0.2.7') !== undefined)).toBe(true);
      expect(await waitFor(() => c.mem.grantLeft('192.0.2.7') !== undefined)).toBe(true);
      expect(b.mem.grantLeft('192.0.2.7')).toBeGreaterThan(298);
      const listed = await b.fw.list();
      expect(listed).toContainEqual(
        expect.objectContaining({ kind: 'grant', address: '192.0.2.7', node: 'a', door: 'ssh' }),
      );
    });

    it('a ban on B is on A; unban on A lifts it on B', async () => {
      const [a, b] = [await start('a'), await start('b')];
      await b.fw.ban('198.51.100.9', 3600);
      await b.fw.ban('2001:db8::66', 3600);
      expect(await waitFor(() => a.mem.banned('198.51.100.9'))).toBe(true);
      expect(await waitFor(() => a.mem.banned('2001:db8::66'))).toBe(true);
      await a.fw.unban('198.51.100.9');
      expect(await waitFor(() => !b.mem.banned('198.51.100.9'))).toBe(true);
    });

    it('flush on C revokes on every node; flush addr only that address', async () => {
      const [a, b, c] = [await start('a'), await start('b'), await start('c')];
      await a.fw.grant('192.0.2.7', [{ port: 22, protocol: 'tcp' }], 300);
      await b.fw.grant('192.0.2.8', [{ port: 22, protocol: 'tcp' }], 300);
      expect(
        await waitFor(
          () =>
            c.mem.grantLeft('192.0.2.7') !== undefined &&
            c.mem.grantLeft('192.0.2.8') !== undefined,
        ),
      ).toBe(true);
      await c.fw.revoke('192.0.2.7');
      expect(await waitFor(() => a.mem.grantLeft('192.0.2.7') === undefined)).toBe(true);
      expect(b.mem.grantLeft('192.0.2.8')).toBeDefined();
      await c.fw.flushGrants();
      expect(
        await waitFor(
          () =>
            a.mem.grantLeft('192.0.2.8') === undefined &&
            b.mem.grantLeft('192.0.2.8') === undefined,
        ),
      ).toBe(true);
    });

    it('trust is shared, survives a setup, and cluster untrust takes it back', async () => {
      const [a, b] = [await start('a'), await start('b')];
      await a.fw.trust('198.51.100.0/24');
      expect(await waitFor(() => b.mem.isTrusted('198.51.100.0/24'))).toBe(true);
      await b.fw.setup({ protectedPorts: [{ port: 22, protocol: 'tcp' }], trusted: [] });
      expect(b.mem.isTrusted('198.51.100.0/24')).toBe(true);
      // fw setup on the command line (a fresh process) keeps it too.
      const cli = (await openCluster(
        { cluster: redis.url, clusterName, clusterNode: 'b' },
        { log: { info: () => undefined, error: () => undefined }, version: 't', background: false },
      ))!;
      open.push(cli);
      await cli
        .attach(b.mem)
        .setup({ protectedPorts: [{ port: 22, protocol: 'tcp' }], trusted: [] });
      expect(b.mem.isTrusted('198.51.100.0/24')).toBe(true);
      await a.node.publishUntrust('198.51.100.0/24');
      expect(await waitFor(() => !b.mem.isTrusted('198.51.100.0/24'))).toBe(true);
    });

    it("the others' grants and bans go through the fast path; one it refuses, through the firewall", async () => {
      const fastCalls: string[] = [];
      const fast: FastApply = {
        grant: (address, ports, seconds) => {
          fastCalls.push(`grant ${address} ${ports[0]?.port} ${seconds > 290 && seconds <= 300}`);
          return Promise.resolve();
        },
        ban: (address) => {
          fastCalls.push(`ban ${address}`);
          return Promise.reject(new Error('nft -i did not answer in time'));
        },
        close: () => undefined,
      };
      const [a, b] = [await start('a'), await start('b', {}, new MemoryFirewall(), fast)];
      await a.fw.grant('192.0.2.7', [{ port: 22, protocol: 'tcp' }], 300);
      expect(await waitFor(() => fastCalls.includes('grant 192.0.2.7 22 true'))).toBe(true);
      await a.fw.ban('192.0.2.66', 600);
      expect(await waitFor(() => b.mem.banned('192.0.2.66'))).toBe(true);
      expect(fastCalls).toContain('ban 192.0.2.66');
      expect(b.logs.join('\n')).not.toMatch(/could not apply/);
    });

    it('a one-time item claimed on A is refused on B, and B hears of it', async () => {
      const [a, b] = [await start('a'), await start('b')];
      const heard: string[] = [];
      b.node.onUsedElsewhere((scope, id, node) => heard.push(`${scope} ${id} ${node}`));
      expect(await a.node.claim({ scope: 'ots:ssh', id: '7001,7002' })).toEqual({
        accept: true,
        how: 'claimed',
      });
      expect(await b.node.claim({ scope: 'ots:ssh', id: '7001,7002' })).toEqual({
        accept: false,
        why: 'used',
        node: 'a',
      });
      expect(await b.node.claim({ scope: 'ots:ssh', id: '7003,7004' })).toMatchObject({
        accept: true,
      });
      expect(await waitFor(() => heard.includes('ots:ssh 7001,7002 a'))).toBe(true);
    });

    it("a node that (re)starts reconciles: the others' grants with their time left, revocations made meanwhile", async () => {
      const a = await start('a');
      await a.fw.grant('192.0.2.7', [{ port: 22, protocol: 'tcp' }], 60);
      await a.fw.grant('192.0.2.9', [{ port: 22, protocol: 'tcp' }], 60);
      const kernel = new MemoryFirewall(); // what survives a daemon's restart
      const b1 = await start('b', {}, kernel);
      expect(await waitFor(() => kernel.grantLeft('192.0.2.9') !== undefined)).toBe(true);
      b1.node.close();
      await a.fw.revoke('192.0.2.9'); // while b is away
      await kernel.grant('192.0.2.50', [{ port: 22, protocol: 'tcp' }], 120); // a knock b served alone
      await new Promise((r) => setTimeout(r, 1500));
      const b2 = await start('b', {}, kernel);
      const left = kernel.grantLeft('192.0.2.7')!;
      expect(left).toBeGreaterThan(56);
      expect(left).toBeLessThanOrEqual(59);
      expect(kernel.grantLeft('192.0.2.9')).toBeUndefined();
      expect(await waitFor(() => a.mem.grantLeft('192.0.2.50') !== undefined)).toBe(true);
      expect(b2.logs.join('\n')).toMatch(/reconciled .*1 re-published, 1 revoked here/);
    });

    it('junk in the keys and on the channel is logged, never a crash', async () => {
      const a = await start('a');
      const prefix = `knock:${clusterName}:`;
      const call = (args: string[]) => a.node.store.call(args, 1000);
      await call(['SET', `${prefix}grant:not-an-address|tcp|22`, '{}']);
      await call(['SADD', `${prefix}grants`, 'not-an-address|tcp|22']);
      await call(['SET', `${prefix}grant:192.0.2.1|tcp|22`, 'garbage']);
      await call(['SADD', `${prefix}grants`, '192.0.2.1|tcp|22']);
      await call(['PUBLISH', `${prefix}events`, 'garbage']);
      await call([
        'PUBLISH',
        `${prefix}events`,
        '{"op":"grant","src":"x","id":"192.0.2.1|tcp|22","ttl":-5}',
      ]);
      await a.node.reconcile();
      expect(
        await waitFor(() => a.logs.filter((l) => l.startsWith('cluster: ignoring')).length >= 4),
      ).toBe(true);
      expect(a.logs.join('\n')).toMatch(
        /ignoring knock:c\d+:grant:192\.0\.2\.1\|tcp\|22: the value is not a JSON object/,
      );
      expect(a.mem.grantLeft('192.0.2.1')).toBeUndefined();
      await a.fw.grant('192.0.2.7', [{ port: 22, protocol: 'tcp' }], 60);
      expect((await a.node.snapshot()).grants.has('192.0.2.7|tcp|22')).toBe(true);
    });

    it('cluster status sees every node with a heartbeat that expires', async () => {
      const [a] = [await start('a'), await start('b')];
      expect(
        await waitFor(async () => (await a.node.nodes()).filter((x) => x.heartbeat).length === 2),
      ).toBe(true);
      const nodes = await a.node.nodes();
      expect(nodes.map((x) => x.name)).toEqual(['a', 'b']);
      expect(nodes[0]!.expiresInMs).toBeGreaterThan(0);
      expect(nodes[0]!.expiresInMs).toBeLessThanOrEqual(600);
      open[1]!.close();
      expect(await waitFor(async () => (await a.node.nodes())[1]!.expiresInMs < 0, 3000)).toBe(
        true,
      );
      expect(await waitFor(() => a.node.lagMs !== undefined)).toBe(true);
      // A second live daemon named a: the two notice (each sees the other's heartbeat).
      const twin = await start('a');
      const twinLine = (l: string) => /another live node is called a/.test(l);
      expect(await waitFor(() => [...twin.logs, ...a.logs].some(twinLine))).toBe(true);
    });

    it('a clean stop says "stopped" at once; a node that dies is told by its expiry', async () => {
      const [a, b, watcher] = [await start('a'), await start('b'), await start('w')];
      expect(
        await waitFor(
          async () => (await watcher.node.nodes()).filter((x) => x.heartbeat).length === 3,
        ),
      ).toBe(true);
      await a.node.stop();
      const stopped = (await watcher.node.nodes()).find((x) => x.name === 'a');
      expect(stopped).toMatchObject({ heartbeat: { stopped: true } });
      expect(stopped!.expiresInMs).toBeLessThan(0);
      b.node.close(); // no goodbye: a crash
      expect(
        await waitFor(
          async () => (await watcher.node.nodes()).find((x) => x.name === 'b')!.expiresInMs < 0,
          3000,
        ),
      ).toBe(true);
      expect(
        (await watcher.node.nodes()).find((x) => x.name === 'b')!.heartbeat?.stopped,
      ).toBeUndefined();
    });

    it('a node restarted under its name is not taken for a twin', async () => {
      const first = await start('x');
      await new Promise((r) => setTimeout(r, 300));
      first.node.close();
      const again = await start('x');
      await new Promise((r) => setTimeout(r, 900));
      expect(again.logs.filter((l) => /another live node/.test(l))).toEqual([]);
    });

    describe('when the store goes away', () => {
      it('serves locally, refuses single-use knocks in 100 ms (closed), logs once lost and once back, re-publishes to a store restarted empty', async () => {
        const [a, b] = [await start('a'), await start('b', { clusterFail: 'open' })];
        await a.fw.grant('192.0.2.7', [{ port: 22, protocol: 'tcp' }], 120);
        expect(await waitFor(() => b.mem.grantLeft('192.0.2.7') !== undefined)).toBe(true);
        await redis.kill('SIGKILL');
        expect(await waitFor(() => a.logs.some((l) => /lost the store/.test(l)))).toBe(true);
        // knock-server status (the daemon's snapshot) says so.
        expect(a.node.health()).toMatchObject({ node: 'a', reachable: false, fail: 'closed' });
        expect(a.node.health().lostSince).toBeLessThanOrEqual(Date.now());
        // Knocks are served locally; the grant is still in the kernel.
        await a.fw.grant('192.0.2.8', [{ port: 22, protocol: 'tcp' }], 120);
        expect(a.mem.grantLeft('192.0.2.8')).toBeDefined();
        // fw list still lists this node's entries, and says the cluster's are missing.
        expect(await a.fw.list()).toContainEqual(expect.objectContaining({ address: '192.0.2.8' }));
        expect(a.logs.join('\n')).toMatch(/cannot read the cluster's entries .*: this node's only/);
        const t0 = performance.now();
        const refused = await a.node.claim({ scope: 'ots:ssh', id: '1,2' });
        expect(performance.now() - t0).toBeLessThan(100);
        expect(refused).toMatchObject({ accept: false, why: 'unavailable' });
        expect(await b.node.claim({ scope: 'ots:ssh', id: '1,2' })).toMatchObject({
          accept: true,
          how: 'failOpen',
        });
        await redis.start(); // empty
        expect(await waitFor(() => a.logs.some((l) => /is back after/.test(l)), 8000)).toBe(true);
        // Both re-publish: the store holds the grants again, and b now has the one made meanwhile.
        expect(await waitFor(() => b.mem.grantLeft('192.0.2.8') !== undefined, 8000)).toBe(true);
        expect(await waitFor(async () => (await a.node.snapshot()).grants.size === 2)).toBe(true);
        // b's offline claim was recorded: a one-time sequence b accepted alone is used for a too.
        expect(
          await waitFor(
            async () => (await a.node.claim({ scope: 'ots:ssh', id: '1,2' })).accept === false,
          ),
        ).toBe(true);
        expect(a.logs.filter((l) => /lost the store/.test(l))).toHaveLength(1);
        expect(a.logs.filter((l) => /is back after/.test(l))).toHaveLength(1);
        expect(a.node.health()).toMatchObject({ reachable: true });
        expect(a.node.health().lostSince).toBeUndefined();
      });

      it('a slow store: no claim waits more than 100 ms', async () => {
        const a = await start('a');
        const pauser = await start('p');
        await pauser.node.store.call(['CLIENT', 'PAUSE', '600', 'ALL'], 1000);
        const t0 = performance.now();
        const verdict = await a.node.claim({ scope: 'ots:ssh', id: '5,6' });
        // The deadline is a 100 ms timer; a loaded 2-core CI box may run it a little late.
        expect(performance.now() - t0).toBeLessThan(160);
        expect(verdict).toMatchObject({ accept: false, why: 'unavailable' });
        await new Promise((r) => setTimeout(r, 700));
      });
    });

    describe('at start', () => {
      const options = (extra: Partial<ClusterSettings>) =>
        openCluster(
          { cluster: redis.url, clusterName, ...extra },
          {
            log: { info: () => undefined, error: () => undefined },
            version: 't',
            background: false,
            connectTimeoutMs: 500,
          },
        );
      const failure = async (promise: Promise<unknown>) => {
        const error = await promise.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(KnockError);
        return error as KnockError;
      };

      it('an unreachable store stops the start with exit code 15 and the URL', async () => {
        const error = await failure(options({ cluster: 'unix:///nonexistent/redis.sock' }));
        expect(error.exitCode).toBe(ExitCode.cluster);
        expect(error.message).toMatch(
          /cannot reach the cluster store at unix:\/\/\/nonexistent\/redis.sock/,
        );
        const tcp = await failure(options({ cluster: 'redis://127.0.0.1:1' }));
        expect(tcp.exitCode).toBe(ExitCode.cluster);
      });

      it('a wrong password, or none where one is needed', async () => {
        const locked = new RedisServer({ password: 'right' });
        await locked.start();
        try {
          const { mkdtempSync, writeFileSync, chmodSync } = await import('node:fs');
          const { join } = await import('node:path');
          const { tmpdir } = await import('node:os');
          const dir = mkdtempSync(join(tmpdir(), 'knock-pw-'));
          const file = join(dir, 'pw');
          writeFileSync(file, 'wrong\n');
          chmodSync(file, 0o600);
          const wrong = await failure(options({ cluster: locked.url, clusterPasswordFile: file }));
          expect([wrong.exitCode, wrong.code]).toEqual([ExitCode.cluster, 'cluster.password']);
          expect(wrong.message).toMatch(/refused the password/);
          const none = await failure(options({ cluster: locked.url }));
          expect([none.exitCode, none.code]).toEqual([ExitCode.cluster, 'cluster.password']);
          chmodSync(file, 0o644);
          const unsafe = await failure(options({ cluster: locked.url, clusterPasswordFile: file }));
          expect(unsafe.exitCode).toBe(ExitCode.config);
          expect(unsafe.message).toMatch(/not safe: its mode is 0644/);
          writeFileSync(file, 'right\n');
          chmodSync(file, 0o600);
          const ok = await options({ cluster: locked.url, clusterPasswordFile: file });
          ok!.close();
        } finally {
          await locked.stop();
        }
      });

      it('a store too old for us', async () => {
        // A stand-in that speaks just enough RESP to say it is Redis 5.0.7.
        const server: Server = createServer((socket) => {
          let buffer = '';
          socket.on('data', (d: Buffer) => {
            buffer += d.toString();
            const commands = buffer.split(/\*\d+\r\n/).slice(1);
            buffer = '';
            for (const c of commands) {
              const words = c.split('\r\n').filter((_, i) => i % 2 === 1);
              if (words[0]?.toUpperCase() === 'INFO') {
                const body = '# Server\r\nredis_version:5.0.7\r\n';
                socket.write(`$${body.length}\r\n${body}\r\n`);
              } else if (words[0]?.toUpperCase() === 'HELLO')
                socket.write('-ERR unknown command HELLO\r\n');
              else socket.write('+OK\r\n');
            }
          });
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        const port = (server.address() as { port: number }).port;
        try {
          const error = await failure(options({ cluster: `redis://127.0.0.1:${port}` }));
          expect(error.exitCode).toBe(ExitCode.cluster);
          expect(error.message).toMatch(/is Redis 5\.0\.7: knock-server needs Redis 6\.2 or later/);
        } finally {
          server.close();
        }
      });
    });
  },
);
