/**
 * What a `knock-server fw` action works with: the config (through the one loader,
 * cli/config-file.ts), the backend it names or the host has, the firewall (wrapped for a
 * cluster), the protected ports and the Trusted_File. The program is cli/fw.ts.
 */
import type { Command } from 'commander';
import {
  DEFAULT_CONFIG_FILE,
  ExitCode,
  KnockError,
  formatIssue,
  hasErrors,
  type KnockdConfig,
} from '@knock/shared';
import { createFirewall, detectFirewall } from '../firewall/create.js';
import { showPort } from '../firewall/format.js';
import { loadTrusted, type Lookup } from '../firewall/load-trusted.js';
import { uniquePorts } from '../firewall/nft-text.js';
import type { Exec, Firewall, FirewallKind, FirewallSpec, PortSpec } from '../firewall/types.js';
import { requireConfig } from './config-file.js';
import { leafOptions } from './leaf-options.js';

export interface FwDeps {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Runs nft / iptables (tests run them inside a network namespace). */
  exec?: Exec;
  readFile?: (path: string) => Promise<string>;
  lookup?: Lookup;
  detect?: () => Promise<FirewallKind>;
  /** With `Cluster =` in the config: the firewall that also acts on the cluster (cluster/cli.ts). */
  wrapFirewall?: (local: Firewall, config: KnockdConfig | undefined) => Promise<Firewall>;
}

/** The seed's sshport, used when neither the config's doors nor --port name a port. */
export const DEFAULT_PROTECTED: PortSpec = { port: 22, protocol: 'tcp' };

/** The options on `fw` and its actions (cli/fw.ts declares them). */
export interface FwOptions {
  config: string;
  port?: PortSpec[];
  backend?: FirewallKind;
  dryRun?: boolean;
  chainPrefix?: string;
}

/** The effects of one `fw` program, defaults filled in. */
export interface FwIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => Promise<string>;
  deps: FwDeps;
}

/** What an action works with, from the options on `fw` (given before or after its name). */
export interface FwContext {
  firewall: Firewall;
  kind: FirewallKind;
  /** The ports to protect and to open: --port, else the doors' Open_Ports, else 22/tcp. */
  ports(): PortSpec[];
  /** The whole rule set: the ports and the Trusted_File's addresses. */
  spec(): Promise<FirewallSpec>;
  /** `fw accept` before `fw setup` (after a reboot, say) sets up first, as the seed's start did. */
  ensureSetUp(): Promise<void>;
  /** Prints what a dry run would have done, or `message` once it is done. */
  done(message: string): void;
}

export async function fwContext(leaf: Command, io: FwIo): Promise<FwContext> {
  const opts = leafOptions<FwOptions>(leaf);
  // The default config may be absent (a host driven by --port alone); one named with -c may not.
  const config = await readConfig(opts.config, opts.config !== DEFAULT_CONFIG_FILE, io);
  const kind = await chooseBackend(opts, config, io.deps);
  const printed: string[] = [];
  const local = createFirewall(kind, {
    ...(io.deps.exec ? { exec: io.deps.exec } : {}),
    ...(opts.dryRun ? { dryRun: (text: string) => printed.push(text) } : {}),
    ...(opts.chainPrefix ? { iptablesChainPrefix: opts.chainPrefix } : {}),
  });
  const firewall =
    io.deps.wrapFirewall && !opts.dryRun ? await io.deps.wrapFirewall(local, config) : local;
  const ports = (): PortSpec[] => {
    const chosen = uniquePorts(
      opts.port ?? (config?.doors ?? []).flatMap((d) => d.openPorts ?? []),
    );
    if (chosen.length > 0) return chosen;
    io.stderr(
      `no Open_Ports in ${opts.config} and no --port: protecting ${showPort(DEFAULT_PROTECTED)}\n`,
    );
    return [DEFAULT_PROTECTED];
  };
  const spec = async (): Promise<FirewallSpec> => {
    const trusted = await trustedAddresses(config, io);
    return { protectedPorts: ports(), trusted };
  };
  const ensureSetUp = async () => {
    let active: boolean;
    try {
      active = (await firewall.status()).active;
    } catch (error) {
      if (opts.dryRun) return; // nothing to read on this host: print the change alone
      throw error;
    }
    if (!active) await firewall.setup(await spec());
  };
  const done = (message: string) => {
    if (opts.dryRun) for (const text of printed.splice(0)) io.stdout(text);
    else io.stdout(message + '\n');
  };
  return { firewall, kind, ports, spec, ensureSetUp, done };
}

/** The config fw takes its ports, Trusted_File and backend from; undefined when the default file is absent. */
function readConfig(path: string, required: boolean, io: FwIo): Promise<KnockdConfig | undefined> {
  return requireConfig(path, {
    read: io.readFile,
    secrets: false,
    stderr: io.stderr,
    scope: 'firewall',
    unreadableHint: 'point to your knockd.conf with -c FILE, or name the ports with --port 22/tcp',
    refusal: ': nothing was changed',
    optional: !required,
  });
}

/** --backend, else Firewall = in the config, else what this host has; `none` is refused. */
async function chooseBackend(
  opts: FwOptions,
  config: KnockdConfig | undefined,
  deps: FwDeps,
): Promise<FirewallKind> {
  const kind =
    opts.backend ?? config?.options.firewall ?? (await (deps.detect ?? detectFirewall)());
  if (kind !== 'none') return kind;
  // `Firewall = none` is a choice: the tools may well be installed.
  const chosen = opts.backend === undefined && config?.options.firewall === 'none';
  throw new KnockError(
    'firewall.none',
    `no firewall backend: ${chosen ? `Firewall = none in ${opts.config}` : 'neither nft nor iptables is installed'}`,
    {
      exitCode: ExitCode.firewall,
      hint: chosen
        ? `the daemon runs door commands only; to use the built-in firewall, write Firewall = nftables (or iptables) in ${opts.config}, or pass --backend nftables|iptables`
        : 'install nftables (apt-get install nftables), or pass --backend nftables|iptables',
    },
  );
}

/** The Trusted_File's addresses, names resolved; an error in it stops the command before any change. */
async function trustedAddresses(config: KnockdConfig | undefined, io: FwIo): Promise<string[]> {
  const trustedFile = config?.options.trustedFile;
  if (trustedFile === undefined) return [];
  const loaded = await loadTrusted(trustedFile, {
    readFile: io.readFile,
    ...(io.deps.lookup ? { lookup: io.deps.lookup } : {}),
  });
  for (const issue of loaded.issues) io.stderr(formatIssue(issue) + '\n');
  if (hasErrors(loaded.issues))
    throw new KnockError(
      'firewall.trustedInvalid',
      `${trustedFile} has errors: nothing was changed`,
      {
        exitCode: ExitCode.config,
        hint: 'fix the lines named above, then run the command again',
      },
    );
  return loaded.addresses;
}
