/**
 * Tools for the client's namespace tests: the built `knock` binary, a packet capture
 * in a namespace, and a per-namespace hosts file (ip netns exec bind-mounts
 * /etc/netns/NAME/hosts over /etc/hosts for the commands it runs, so the machine's own
 * /etc/hosts is never touched).
 */
import { execFile, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitFor, type Lab, type Netns } from './netns.js';

const run = promisify(execFile);
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const knockBin = join(root, 'client-cli', 'bin', 'knock.js');

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** The tests run the built binary (as users do): build it when it is missing or older than its sources. */
export async function ensureBuilt(): Promise<void> {
  const built = join(root, 'client-cli', 'dist', 'bin', 'knock.js');
  // tsc -b rewrites .tsbuildinfo on every build that changed anything (not every .js).
  const stamp = (pkg: string) => {
    const info = join(root, pkg, 'dist', '.tsbuildinfo');
    return existsSync(info) ? statSync(info).mtimeMs : 0;
  };
  const builtAt = Math.min(stamp('client-cli'), stamp('shared'));
  const sources = Math.max(
    newest(join(root, 'client-cli', 'src')),
    newest(join(root, 'shared', 'src')),
  );
  if (existsSync(built) && builtAt >= sources) return;
  // tsc -b emits even when another package has type errors; the binary is what matters here.
  await run('npx', ['tsc', '-b', 'client-cli'], { cwd: root }).catch(() => undefined);
  if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build`);
}

/**
 * A one-time-sequence file from our own generator (`knock ots generate` run in `ns`): three
 * sequences of three knocks to ports 30000-39999, a share `udpRatio` of them UDP. Each of
 * `copies` gets the same bytes (the server's and the client's file).
 */
export async function generateOts(
  ns: Netns,
  file: string,
  udpRatio: number,
  copies: readonly string[] = [],
): Promise<void> {
  const generated = await knockIn(ns, [
    'ots',
    'generate',
    '--count',
    '3',
    '--length',
    '3',
    '--udp-ratio',
    String(udpRatio),
    '--min-port',
    '30000',
    '--max-port',
    '39999',
    file,
  ]);
  if (generated.code !== 0) throw new Error(`knock ots generate failed: ${generated.stderr}`);
  for (const copy of copies) copyFileSync(file, copy);
}

/** `knock ARGS` inside a namespace. */
export const knockIn = (
  ns: Netns,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
) => ns.exec([process.execPath, knockBin, ...args], opts);

export interface Packet {
  time: number;
  src: string;
  dst: string;
  dport: number;
  proto: 'tcp' | 'udp';
  /** tcp: the flags as tcpdump prints them ([S], [S.], …); udp: the payload length. */
  detail: string;
}

/** tcpdump's -tt -nn -l lines for TCP and UDP over IPv4/IPv6. */
export function parseTcpdump(text: string): Packet[] {
  const packets: Packet[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+\.\d+) IP6? (\S+)\.(\d+) > (\S+)\.(\d+): (.*)$/.exec(line.trim());
    if (!m) continue;
    const [, time, src, , dst, dport, rest = ''] = m;
    const flags = /^Flags \[([^\]]*)\]/.exec(rest);
    const udp = /^UDP, length (\d+)/.exec(rest);
    if (!flags && !udp) continue;
    packets.push({
      time: Number(time),
      src: src ?? '',
      dst: dst ?? '',
      dport: Number(dport),
      proto: flags ? 'tcp' : 'udp',
      detail: flags ? (flags[1] ?? '') : (udp?.[1] ?? ''),
    });
  }
  return packets;
}

export interface Capture {
  packets(): Packet[];
  /** SYNs without ACK (connection attempts, knocks). */
  syns(): Packet[];
  stop(): Promise<void>;
}

/** Captures TCP and UDP arriving on the server's veth (before its firewall sees them). */
export async function capture(lab: Lab, filter = 'tcp or udp'): Promise<Capture> {
  const child: ChildProcess = lab.server.spawn([
    'tcpdump',
    '-i',
    lab.serverIf,
    '-Q',
    'in',
    '-tt',
    '-nn',
    '-l',
    '-U',
    filter,
  ]);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  if (!(await waitFor(() => err.includes('listening on'), 10_000)))
    throw new Error(`tcpdump did not start: ${err}`);
  const packets = () => parseTcpdump(out);
  return {
    packets,
    syns: () => packets().filter((p) => p.proto === 'tcp' && p.detail === 'S'),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** A host name that resolves, inside the client namespace only, to the given addresses. */
export function hostsEntry(ns: Netns, name: string, addresses: string[]): () => void {
  const dir = join('/etc/netns', ns.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'hosts'),
    ['127.0.0.1 localhost', '::1 localhost', ...addresses.map((a) => `${a} ${name}`), ''].join(
      '\n',
    ),
  );
  return () => rmSync(dir, { recursive: true, force: true });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
