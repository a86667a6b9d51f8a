#!/usr/bin/env node
// scripts/bench-detector.mjs: Detector.feed in ns/packet, for comparing two builds in one run.
//
//   node scripts/bench-detector.mjs [--build NAME=DIR]... [--rounds 5] [--packets 1000000]
//
// DIR is a compiled server tree (its dist/detect/detector.js is loaded); default: this
// checkout's server/dist. Each round runs every build once per workload, each in its own
// Node process (no JIT or heap shared between builds), alternating builds so that load
// from elsewhere on the machine falls on all of them alike. Prints the median and the
// range of CPU ns/packet per build and workload. Workloads (doors, ports and rates of the
// shared harness's knockd.conf.in; packets timestamped at 50,000/s):
//   flood    SYNs from 131,072 spoofed sources to door ports (first knocks, wrong and
//            repeated knocks), attempts expiring as the clock runs
//   million  one first knock from each of --packets distinct sources (the table grows to
//            that many attempts), then one expire() that ends them all
//   legit    1,000 sources each knocking a three-knock door to the end, over and over
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const WORKLOADS = ['flood', 'million', 'legit'];
const here = path.dirname(fileURLToPath(import.meta.url));

async function child(dir, workload, packets) {
  const { Detector } = await import(pathToFileURL(path.join(dir, 'dist/detect/detector.js')).href);
  const syn = { syn: true };
  const doors = [
    [1228, 1227],
    [1220, 1221],
    [1226, 1226],
    [2001, 2002, 2003],
  ].map((ports, i) => ({
    id: i,
    name: `door ${i}`,
    sequence: ports.map((port) => ({ port, protocol: 'tcp' })),
    timeoutMs: 15_000,
    tcpFlags: syn,
  }));
  const detector = new Detector(doors, {
    maxAttempts: 1_100_000,
    localAddresses: ['192.0.2.2'],
  });
  const event = {
    time: 0,
    family: 4,
    src: '',
    dst: '192.0.2.2',
    protocol: 'tcp',
    srcPort: 40000,
    dstPort: 0,
    flags: 0x02,
    seq: 0,
    srcV4: 0,
  };
  const out = [];
  const ports = [1228, 1220, 1226, 2001, 1227, 1221, 2002, 2003, 1228, 1226];
  // Sources and their text made up front: the decoder's work is not measured here.
  const sourceCount = workload === 'flood' ? 131_072 : workload === 'legit' ? 1_000 : packets;
  const base = workload === 'legit' ? 0x0ac70000 : 0x0a800001;
  const texts = Array.from(
    { length: sourceCount },
    (_, i) =>
      `${((base + i) >>> 24) & 255}.${((base + i) >>> 16) & 255}.${((base + i) >>> 8) & 255}.${(base + i) & 255}`,
  );
  let now = 1_000_000;
  let actions = 0;
  const legit = [2001, 2002, 2003];
  const cpu = process.cpuUsage();
  for (let i = 0; i < packets; i++) {
    let s;
    let port;
    if (workload === 'flood') {
      s = Math.imul(i, 0x9e3779b1) >>> 15; // 17 bits: 131,072 sources, scattered
      port = ports[i % ports.length];
    } else if (workload === 'million') {
      s = i;
      port = ports[i & 3];
    } else {
      s = i % sourceCount;
      port = legit[Math.floor(i / sourceCount) % 3];
    }
    event.src = texts[s];
    event.srcV4 = (base + s) >>> 0;
    event.dstPort = port;
    event.seq = i;
    event.srcPort = 40000 + (i & 0x3fff);
    now += 0.02;
    detector.feed(event, now, out);
    actions += out.length;
    out.length = 0;
  }
  if (workload === 'million') {
    detector.expire(now + 60_000, out);
    actions += out.length;
  }
  // CPU time, not wall time: on a shared machine the wall clock also counts the time
  // other processes had the core.
  const used = process.cpuUsage(cpu);
  const ns = ((used.user + used.system) * 1000) / packets;
  process.stdout.write(JSON.stringify({ ns, actions, size: detector.size }) + '\n');
}

function main(argv) {
  const builds = [];
  let rounds = 5;
  let packets = 1_000_000;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--build') {
      const [name, dir] = argv[++i].split('=');
      builds.push({ name, dir: path.resolve(dir) });
    } else if (arg === '--rounds') rounds = Number(argv[++i]);
    else if (arg === '--packets') packets = Number(argv[++i]);
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write('see the comment at the top of scripts/bench-detector.mjs\n');
      return;
    } else throw new Error(`bench-detector: unknown argument ${arg} (see --help)`);
  }
  if (builds.length === 0) builds.push({ name: 'this', dir: path.join(here, '../server') });
  const results = new Map();
  const actionsOf = new Map();
  for (let round = 0; round < rounds; round++) {
    for (const workload of WORKLOADS) {
      const order = round % 2 === 0 ? builds : [...builds].reverse();
      for (const build of order) {
        const run = spawnSync(
          process.execPath,
          [fileURLToPath(import.meta.url), '--child', build.dir, workload, String(packets)],
          { encoding: 'utf8' },
        );
        if (run.status !== 0) throw new Error(`${build.name} ${workload}: ${run.stderr}`);
        const result = JSON.parse(run.stdout);
        // Every build must do the same thing: the same number of actions per workload.
        const expected = actionsOf.get(workload) ?? result.actions;
        if (result.actions !== expected)
          throw new Error(`${build.name} ${workload}: ${result.actions} actions, not ${expected}`);
        actionsOf.set(workload, expected);
        const key = `${workload}\t${build.name}`;
        if (!results.has(key)) results.set(key, { runs: [], actions: result.actions });
        results.get(key).runs.push(result.ns);
      }
    }
  }
  process.stdout.write('workload\tbuild\tmedian_ns\tmin_ns\tmax_ns\tactions\n');
  for (const [key, { runs, actions }] of results) {
    const sorted = [...runs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const f = (n) => n.toFixed(0);
    process.stdout.write(
      `${key}\t${f(median)}\t${f(sorted[0])}\t${f(sorted.at(-1))}\t${actions}\n`,
    );
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], Number(process.argv[5]));
} else {
  main(process.argv.slice(2));
}
