// A lab for firewall tests: the netns pair, a TCP listener on the protected port in the
// server namespace, and a connect check from any client address.
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createLab, waitFor, type Lab } from '../helpers/netns.js';
import { CommanderError } from 'commander';
import { describeError } from '@knock/shared';
import { createProgram, fwCommand, systemExec, type Exec } from '@knock/server';

export const PORT = 22;
/** Not protected: always reachable, proves the path works when PORT is refused. */
export const OPEN_PORT = 2222;
export const EXTRA6 = ['2001:db8::10', '2001:db8::a1'];

export interface FwLab {
  lab: Lab;
  /** Runs a program inside the server namespace (where the firewall lives). */
  exec: Exec;
  /** The programs running in the server namespace (comm names), seen from the host. */
  serverProcesses(): Promise<string[]>;
  /** True when a TCP connection from `src` to the server's `port` completes within ~1 s. */
  connects(src: string, port?: number): Promise<boolean>;
  destroy(): Promise<void>;
}

const LISTENER = `
const net = require('node:net');
for (const port of process.argv.slice(1).map(Number))
  net
    .createServer((s) => s.on('error', () => {}).end('hello\\n'))
    .listen({ port, host: '::', ipv6Only: false });
`;

export async function createFwLab(): Promise<FwLab> {
  const lab = await createLab({ extraClients: 4 });
  // Through systemExec (stdin errors handled): a short-lived nc must not leave an EPIPE behind.
  const inClient = (argv: string[]) =>
    systemExec('ip', ['netns', 'exec', lab.client.name, ...argv]);
  let listener: ChildProcess | undefined;
  try {
    for (const a of EXTRA6) await lab.client.sh(`ip addr add ${a}/64 dev ${lab.clientIf} nodad`);
    listener = lab.server.spawn(['node', '-e', LISTENER, String(PORT), String(OPEN_PORT)]);
    const up = await waitFor(
      async () => (await inClient(['nc', '-z', '-w1', lab.server4, String(PORT)])).code === 0,
      10_000,
    );
    if (!up) throw new Error('the test listener did not come up in the server namespace');
  } catch (error) {
    listener?.kill('SIGKILL');
    await lab.destroy();
    throw error;
  }
  const exec: Exec = (file, args, opts) =>
    systemExec('ip', ['netns', 'exec', lab.server.name, file, ...args], opts);
  return {
    lab,
    exec,
    async connects(src, port = PORT) {
      const dst = src.includes(':') ? lab.server6 : lab.server4;
      const r = await inClient(['nc', '-z', '-w1', '-s', src, dst, String(port)]);
      return r.code === 0;
    },
    async serverProcesses() {
      const pids = (await systemExec('ip', ['netns', 'pids', lab.server.name])).stdout;
      const names = await Promise.all(
        pids
          .split(/\s+/)
          .filter(Boolean)
          .map((pid) => readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')),
      );
      return names.map((n) => n.trim()).filter(Boolean);
    },
    async destroy() {
      listener?.kill('SIGKILL');
      await lab.destroy();
    },
  };
}

/** `nft list table inet knock` without the ever-changing `expires …` countdowns. */
export const withoutExpiry = (listing: string): string =>
  listing.replace(/ expires [0-9hms]+/g, '');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `knock-server fw ARGS` in-process with its firewall commands run in the lab's server namespace. */
export async function runFwCli(fw: FwLab, args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  // The real program, so options reach `fw` as they do in production (the program has a
  // -c of its own, whose default once won over `fw setup -c FILE`).
  const push = (to: string[]) => (t: string) => void to.push(t);
  const root = createProgram({
    version: 'test',
    stdout: push(out),
    stderr: push(err),
    runServer: () => Promise.reject(new Error('the daemon does not run in fw tests')),
    extraCommands: [fwCommand({ exec: fw.exec, stdout: push(out), stderr: push(err) })],
  });
  let code = 0;
  try {
    await root.parseAsync(['fw', ...args], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode;
    else {
      const described = describeError(error);
      err.push(described.text + '\n');
      code = described.exitCode;
    }
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}
