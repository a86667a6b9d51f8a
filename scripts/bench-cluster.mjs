#!/usr/bin/env node
// scripts/bench-cluster.mjs: knock-server nodes sharing one Redis, measured (issue 13).
//
//   node scripts/bench-cluster.mjs [--knocks 100] [--burst 1000] [--only latency|burst]
//
// Builds its own lab (one bridge in a hub namespace; a client and three node namespaces
// on it, documentation addresses only), starts a private redis-server in the hub (TCP
// 192.0.2.254:6379, no persistence) and three daemons, then measures:
//   latency  --knocks knocks (a fresh source each) on node a's door, one at a time: from
//            the moment the client sends the last knock (a TCP SYN from its own socket) to
//            the grant in a's kernel set and in b's (each timed by `nft monitor` in its
//            namespace, on the same host clock); median and p99.
//   burst    --burst knocks in one burst on node a (a pcap of spoofed SYNs replayed with
//            tcpreplay at top speed): time from the replay's start until every grant is
//            in the kernel sets of a, b and c.
// Everything it started is stopped and removed at exit (also on Ctrl-C). Needs root.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'server', 'bin', 'knock-server.js');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const help = args.includes('-h') || args.includes('--help');
if (help) {
  const text = execFileSync('sed', [
    '-n',
    '2,/^import/p',
    fileURLToPath(import.meta.url),
  ]).toString();
  process.stdout.write(
    text
      .split('\n')
      .slice(0, -2)
      .map((l) => l.replace(/^\/\/ ?/, ''))
      .join('\n') + '\n',
  );
}
const root = process.getuid?.() === 0;
if (!help && !root) {
  console.error('bench-cluster: run as root (namespaces, nftables, packet capture)');
  process.exitCode = 13;
}
const KNOCKS = Number(opt('knocks', '100'));
const BURST = Number(opt('burst', '1000'));
const ONLY = opt('only', 'all');

const id = process.pid.toString(36);
const HUB = `kbh${id}`;
const CLIENT = `kbc${id}`;
const NODES = ['a', 'b', 'c'].map((name, i) => ({
  name,
  ns: `kbn${id}${i}`,
  ifname: `kb${id}${i}`,
  address: `192.0.2.${11 + i}`,
}));
const work = mkdtempSync(join(tmpdir(), 'knock-bench-cluster-'));
const children = [];

const sh = (ns, cmd) => execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd]).toString();
const ip = (...a) => execFileSync('ip', a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cleanup() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone
    }
  }
  for (const ns of [HUB, CLIENT, ...NODES.map((n) => n.ns)]) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // not there
    }
  }
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
])
  process.on(signal, () => {
    cleanup();
    // eslint-disable-next-line no-restricted-syntax -- interrupted: stop now, everything is cleaned up
    process.exit(code);
  });

function lab() {
  ip('netns', 'add', HUB);
  sh(
    HUB,
    'ip link set lo up && ip link add br0 type bridge && ip addr add 192.0.2.254/24 dev br0 && ip link set br0 up',
  );
  const sources = Array.from({ length: KNOCKS }, (_, i) => `198.51.100.${1 + (i % 250)}`);
  const members = [
    [CLIENT, `kbc${id}`, ['192.0.2.1', ...new Set(sources)]],
    ...NODES.map((n) => [n.ns, n.ifname, [n.address]]),
  ];
  members.forEach(([ns, ifname, addresses], i) => {
    ip('netns', 'add', ns);
    ip(
      'link',
      'add',
      ifname,
      'netns',
      ns,
      'type',
      'veth',
      'peer',
      'name',
      `kbh${id}${i}`,
      'netns',
      HUB,
    );
    sh(HUB, `ip link set kbh${id}${i} master br0 && ip link set kbh${id}${i} up`);
    sh(
      ns,
      [
        'ip link set lo up',
        ...addresses.map((a) => `ip addr add ${a}/${a.startsWith('198.') ? 32 : 24} dev ${ifname}`),
        `ip link set ${ifname} up`,
      ].join(' && '),
    );
  });
  // The nodes answer the client's 198.51.100.x sources on the segment.
  for (const n of NODES) sh(n.ns, `ip route add 198.51.100.0/24 dev ${n.ifname}`);
}

async function redis() {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      HUB,
      'redis-server',
      '--bind',
      '192.0.2.254',
      '--port',
      '6379',
      '--protected-mode',
      'no',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      work,
    ],
    { stdio: 'ignore' },
  );
  children.push(child);
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('ip', ['netns', 'exec', HUB, 'redis-cli', '-h', '192.0.2.254', 'ping'], {
        stdio: 'pipe',
      });
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error('redis-server did not start');
}

function config(node) {
  const path = join(work, `${node.name}.conf`);
  writeFileSync(
    path,
    `[options]
  LogFile = ${join(work, `${node.name}.log`)}
  Control_Socket = ${join(work, `${node.name}.sock`)}
  Firewall = nftables
  Cluster = redis://192.0.2.254:6379/0
  Cluster_Name = bench
  Cluster_Node = ${node.name}
[open]
  Sequence = 7000,8000
  Open_Ports = 2222/tcp
  Open_Timeout = 600
`,
  );
  return path;
}

async function daemon(node) {
  const child = spawn(
    'ip',
    ['netns', 'exec', node.ns, process.execPath, BIN, '-i', node.ifname, '-c', config(node), '-v'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  for (let i = 0; i < 300 && !/starting up/.test(out); i++) await sleep(50);
  if (!/starting up/.test(out)) throw new Error(`node ${node.name} did not start:\n${out}`);
}

/** `nft monitor` in a node: calls back with (address, time) for each grant added. */
function monitor(node, onAdd) {
  const child = spawn('ip', ['netns', 'exec', node.ns, 'nft', 'monitor', 'elements'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(child);
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    const t = performance.timeOrigin + performance.now();
    if (!line.startsWith('add element inet knock granted4')) return;
    for (const m of line.matchAll(/(\d+\.\d+\.\d+\.\d+) \. tcp \. 2222/g)) onAdd(m[1], t);
  });
  return child;
}

const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${pct(s, 50).toFixed(1)} ms, p90 ${pct(s, 90).toFixed(1)} ms, p99 ${pct(s, 99).toFixed(1)} ms, max ${s.at(-1).toFixed(1)} ms (n=${s.length})`;
};

/** A helper in the client namespace: for each line "SRC DST PORT" it sends one SYN (a connect) and prints the time it did. */
function knocker() {
  const code = `
const net = require('node:net');
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [src, dst, port] = line.split(' ');
  const s = net.connect({ host: dst, port: Number(port), localAddress: src });
  s.on('error', () => {});
  setTimeout(() => s.destroy(), 200);
  process.stdout.write((performance.timeOrigin + performance.now()) + '\\n');
});`;
  const child = spawn('ip', ['netns', 'exec', CLIENT, process.execPath, '-e', code], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const rl = createInterface({ input: child.stdout });
  const waiting = [];
  rl.on('line', (line) => waiting.shift()?.(Number(line)));
  return (src, dst, port) =>
    new Promise((resolve) => {
      waiting.push(resolve);
      child.stdin.write(`${src} ${dst} ${port}\n`);
    });
}

async function latency() {
  const [a, b] = NODES;
  const seen = { a: new Map(), b: new Map() };
  monitor(a, (addr, t) => seen.a.has(addr) || seen.a.set(addr, t));
  monitor(b, (addr, t) => seen.b.has(addr) || seen.b.set(addr, t));
  await sleep(300);
  const send = knocker();
  const toA = [];
  const toB = [];
  const fanout = [];
  for (let i = 0; i < KNOCKS; i++) {
    const src = `198.51.100.${1 + (i % 250)}`;
    sh(a.ns, `nft delete element inet knock granted4 '{ ${src} . tcp . 2222 }' 2>/dev/null; true`);
    sh(b.ns, `nft delete element inet knock granted4 '{ ${src} . tcp . 2222 }' 2>/dev/null; true`);
    seen.a.delete(src);
    seen.b.delete(src);
    await send(src, a.address, 7000);
    await sleep(5);
    const t0 = await send(src, a.address, 8000);
    for (let w = 0; w < 200 && !(seen.a.has(src) && seen.b.has(src)); w++) await sleep(5);
    if (!seen.b.has(src) || !seen.a.has(src)) {
      console.error(
        `knock ${i} from ${src}: not seen (a: ${seen.a.has(src)}, b: ${seen.b.has(src)})`,
      );
      continue;
    }
    toA.push(seen.a.get(src) - t0);
    toB.push(seen.b.get(src) - t0);
    fanout.push(seen.b.get(src) - seen.a.get(src));
    await sleep(20);
  }
  console.log(`last knock sent -> grant in a's set: ${summary(toA)}`);
  console.log(`last knock sent -> grant in b's set: ${summary(toB)}`);
  console.log(`a's set -> b's set (fan-out):        ${summary(fanout)}`);
}

/** Ethernet + IPv4 + TCP SYN frames from `src` to the node (checksums computed). */
function synFrame(dstMac, srcIp, dstIp, dport, sport) {
  const buf = Buffer.alloc(14 + 20 + 20);
  Buffer.from(dstMac.split(':').map((h) => parseInt(h, 16))).copy(buf, 0);
  Buffer.from([0x02, 0, 0, 0, 0, 1]).copy(buf, 6);
  buf.writeUInt16BE(0x0800, 12);
  const ipb = buf.subarray(14, 34);
  ipb[0] = 0x45;
  ipb.writeUInt16BE(40, 2);
  ipb[8] = 64;
  ipb[9] = 6;
  srcIp.split('.').forEach((p, i) => (ipb[12 + i] = Number(p)));
  dstIp.split('.').forEach((p, i) => (ipb[16 + i] = Number(p)));
  ipb.writeUInt16BE(checksum(ipb), 10);
  const tcp = buf.subarray(34);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp.writeUInt32BE(1, 4);
  tcp[12] = 0x50;
  tcp[13] = 0x02;
  tcp.writeUInt16BE(65535, 14);
  const pseudo = Buffer.concat([ipb.subarray(12, 20), Buffer.from([0, 6, 0, 20]), tcp]);
  tcp.writeUInt16BE(checksum(pseudo), 16);
  return buf;
}
function checksum(b) {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) + (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}
function pcap(frames) {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const parts = [head];
  frames.forEach((f, i) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(i, 4);
    h.writeUInt32LE(f.length, 8);
    h.writeUInt32LE(f.length, 12);
    parts.push(h, f);
  });
  return Buffer.concat(parts);
}

async function burst() {
  const [a] = NODES;
  const mac = JSON.parse(sh(a.ns, `ip -j link show ${a.ifname}`))[0].address;
  const sources = Array.from(
    { length: BURST },
    (_, i) => `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
  );
  const frames = [];
  for (const [i, s] of sources.entries())
    frames.push(synFrame(mac, s, a.address, 7000, 10000 + (i % 50000)));
  for (const [i, s] of sources.entries())
    frames.push(synFrame(mac, s, a.address, 8000, 10000 + (i % 50000)));
  const file = join(work, 'burst.pcap');
  writeFileSync(file, pcap(frames));
  const counts = new Map(NODES.map((n) => [n.name, new Set()]));
  const done = new Map();
  let t0 = 0;
  for (const n of NODES)
    monitor(n, (addr, t) => {
      if (!addr.startsWith('10.')) return;
      const set = counts.get(n.name);
      set.add(addr);
      if (set.size === BURST && !done.has(n.name)) done.set(n.name, t - t0);
    });
  await sleep(300);
  t0 = performance.timeOrigin + performance.now();
  execFileSync(
    'ip',
    ['netns', 'exec', CLIENT, 'tcpreplay', '-q', '-i', `kbc${id}`, '--topspeed', file],
    { stdio: 'ignore' },
  );
  const replayed = performance.timeOrigin + performance.now() - t0;
  for (let w = 0; w < 600 && done.size < NODES.length; w++) await sleep(50);
  console.log(`burst of ${BURST} knocks replayed on a in ${replayed.toFixed(0)} ms`);
  for (const n of NODES)
    console.log(
      `  all ${BURST} grants in ${n.name}'s set after ${done.has(n.name) ? `${done.get(n.name).toFixed(0)} ms` : `(only ${counts.get(n.name).size} after 30 s)`}`,
    );
}

if (!help && root) {
  try {
    lab();
    await redis();
    for (const n of NODES) await daemon(n);
    await sleep(500);
    if (ONLY === 'all' || ONLY === 'latency') {
      console.log(`== latency: ${KNOCKS} knocks on node a, one at a time`);
      await latency();
    }
    if (ONLY === 'all' || ONLY === 'burst') {
      console.log(`== burst: ${BURST} knocks on node a at once`);
      await burst();
    }
  } finally {
    cleanup();
  }
}
