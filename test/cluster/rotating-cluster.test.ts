/**
 * Issue 11 across a cluster (issue 13): a rotating door's derived sequence opens once on
 * the whole cluster, not once per node. Two knock-server nodes, each in its own network
 * namespace with its own nftables sets and its own --state-dir, share one private
 * redis-server and one rotating door with the same secret. A knock on node a opens there;
 * the same derived sequence (same step) knocked at node b from another address is refused
 * by b, which says why. Without the wiring in server/src/daemon/run.ts (clusterUsedStore)
 * each node would keep its own used-sequence file, and b would open.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deriveSequence, formatSecret, ROTATING_DEFAULTS, stepAt } from '@knock/shared';
import { describeUnless } from '../helpers/describe.js';
import { play, type Step } from '../helpers/daemon.js';
import { netnsSkipReason, waitFor } from '../helpers/netns.js';
import { buildServer, sleep, Workdir, type RunningDaemon } from '../server/daemon-helpers.js';
import {
  LabRedis,
  REDIS_SERVER,
  REDIS_URL,
  createClusterLab,
  granted,
  startNode,
  type ClusterLab,
  type ClusterNodeNs,
} from './cluster-lab.js';

const skip =
  netnsSkipReason ??
  (existsSync(REDIS_SERVER) ? undefined : 'needs redis-server (scripts/setup.sh installs it)');

const PORT = 2222;
/** An hour per step: the knock and its replay fall in one step (see `awayFromBoundary`). */
const STEP = 3600;

describeUnless(skip, 'a rotating door shared by two cluster nodes', () => {
  let lab: ClusterLab;
  let redis: LabRedis;
  let work: Workdir;
  const secret = randomBytes(20);
  const daemons = new Map<string, RunningDaemon>();
  const node = (name: string) => lab.nodes.find((n) => n.name === name)!;
  const daemon = (name: string) => daemons.get(name)!;

  /** The door's derived sequence of `step` (IPv4), as a client computes it. */
  const sequence = (step: number) =>
    deriveSequence(
      {
        secret,
        label: 'rot',
        length: ROTATING_DEFAULTS.length,
        step: STEP,
        low: ROTATING_DEFAULTS.low,
        high: ROTATING_DEFAULTS.high,
        protocols: 'tcp',
      },
      4,
      step,
    ).map((k) => k.port);

  /** One SYN per port from `src` to `to`, in order (hping3, spoofed source). */
  const knock = (src: string, to: ClusterNodeNs, ports: number[]) =>
    play(
      { client: lab.client, server4: to.address },
      ports.map((port): Step => ({ tcp: port, src, to: to.address })),
    );

  /** Not within 60 s of a step boundary, so that both knocks are of one step. */
  const awayFromBoundary = async () => {
    const into = Date.now() % (STEP * 1000);
    if (into < 60_000) await sleep(60_000 - into);
    else if (into > STEP * 1000 - 60_000) await sleep(STEP * 1000 - into + 1000);
  };

  beforeAll(async () => {
    await buildServer();
    lab = await createClusterLab(['a', 'b'], 2);
    work = new Workdir();
    redis = new LabRedis(lab.hub);
    await redis.start();
    for (const n of lab.nodes) {
      writeFileSync(
        work.file(`${n.name}.conf`),
        `[options]
  Control_Socket = ${work.file(`${n.name}.sock`)}
  Firewall       = nftables
  Cluster        = ${REDIS_URL}
  Cluster_Name   = rot
  Cluster_Node   = ${n.name}

[rot]
  Sequence_Secret = ${formatSecret(secret)}
  Sequence_Step   = ${STEP}
  Seq_Timeout     = 10
  Open_Ports      = ${PORT}/tcp
  Open_Timeout    = 60
`,
      );
      const d = startNode(n, work.file(`${n.name}.conf`), [
        '--state-dir',
        work.file(`${n.name}-state`),
      ]);
      daemons.set(n.name, d);
    }
    await Promise.all(
      lab.nodes.map(async (n) => {
        await daemon(n.name).line(/starting up, listening on/, 30_000);
        await daemon(n.name).line(/cluster: node .* of rot on/, 10_000);
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...daemons.values()].map((d) => d.stop()));
    await redis?.stop();
    await lab?.destroy();
    work?.remove();
  });

  it("node a opens; the same step's sequence replayed at node b is refused there, and b says why", async () => {
    await awayFromBoundary();
    const step = stepAt(Date.now(), STEP);
    const ports = sequence(step);
    const [first, replayer] = lab.sources as [string, string];

    const fromA = daemon('a').lines.length;
    await knock(first, node('a'), ports);
    await daemon('a').line(`${first}: rot: OPEN SESAME (step ${step}, IPv4)`, 10_000, fromA);
    expect(await waitFor(() => granted(node('a'), first), 10_000)).toBe(true);

    const fromB = daemon('b').lines.length;
    await knock(replayer, node('b'), ports);
    await daemon('b').line(
      `${replayer}: rot: sequence of step ${step}, IPv4 already used: replay refused`,
      10_000,
      fromB,
    );
    expect(daemon('b').lines.slice(fromB).join('\n')).not.toContain('OPEN SESAME');
    expect(await granted(node('b'), replayer)).toBe(false);
    // Redis holds the one claim, made by node a.
    const keys = (await redis.cli('--scan', '--pattern', 'knock:rot:used:rotating:*')).split('\n');
    expect(keys).toHaveLength(1);
    expect(await redis.cli('GET', keys[0]!)).toMatch(/"node":"a"/);
  });
});
