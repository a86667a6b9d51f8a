/**
 * `knock-server fw …`: the seed deployment's init-script actions (setup, accept, trust,
 * drop, flush addr|filter|banned) plus status, list, unban and teardown, on the built-in
 * backends. A config that ran `/etc/rc.d/init.d/knockd accept %IP%` can run
 * `knock-server fw accept %IP%` instead.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_CONFIG_FILE,
  DEFAULT_OPEN_TIMEOUT,
  ExitCode,
  KnockError,
  formatIssue,
  hasErrors,
  parseConfig,
  type KnockdConfig,
} from '@knock/shared';
import { requireHost, requireNetwork } from '../firewall/address.js';
import { createFirewall, detectFirewall } from '../firewall/create.js';
import { loadTrusted, type Lookup } from '../firewall/load-trusted.js';
import type {
  Exec,
  Firewall,
  FirewallEntry,
  FirewallKind,
  FirewallSpec,
  PortSpec,
} from '../firewall/types.js';
import { checkSeconds, parsePortSpec } from '../firewall/validate.js';
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

interface FwOptions {
  config: string;
  port?: PortSpec[];
  backend?: FirewallKind;
  dryRun?: boolean;
  chainPrefix?: string;
}

const portOption = (value: string, previous: PortSpec[] | undefined): PortSpec[] => {
  const spec = parsePortSpec(value);
  if (!spec) throw new InvalidArgumentError(`"${value}" is not a port: write 22/tcp or 53/udp`);
  return [...(previous ?? []), spec];
};

const secondsOption = (value: string): number => {
  if (!/^\d+$/.test(value))
    throw new InvalidArgumentError(`"${value}" is not a number of seconds (0 = until flushed)`);
  const n = Number(value);
  try {
    checkSeconds(n);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return n;
};

/** iptables chain names hold 28 characters; the longest suffix is `_trusted`. */
const chainPrefixOption = (value: string): string => {
  if (!/^[A-Za-z][\w-]{0,19}$/.test(value))
    throw new InvalidArgumentError(
      `"${value}" cannot start iptables chain names: use 1 to 20 letters, digits, _ or -, starting with a letter`,
    );
  return value;
};

const showPort = (p: PortSpec) => `${p.port}/${p.protocol}`;

/** `4m57s`, `1h0m5s`, `forever`. */
export function showRemaining(seconds: number | undefined): string {
  if (seconds === undefined) return 'forever';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

export function formatEntries(entries: readonly FirewallEntry[]): string {
  if (entries.length === 0) return 'no grants or bans\n';
  // A cluster node also says who made each entry (and which it lacks itself).
  const cluster = entries.some((e) => e.node !== undefined);
  const rows = entries.map((e) => [
    e.kind,
    e.address,
    e.port ? showPort(e.port) : '-',
    e.kind === 'trusted'
      ? 'always'
      : `${showRemaining(e.remaining)}${e.remaining === undefined ? '' : ' left'}`,
    ...(cluster ? [showOrigin(e)] : []),
  ]);
  const last = rows[0]!.length - 1;
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows.map((r) => r.map((c, i) => (i < last ? c.padEnd(widths[i]!) : c)).join('  ')).join('\n') +
    '\n'
  );
}

const showOrigin = (e: FirewallEntry): string =>
  e.node === undefined
    ? 'node ? (not in the cluster)'
    : `node ${e.node}${e.door !== undefined ? ` door ${e.door}` : ''}${e.here === false ? ' (not applied on this node)' : ''}`;

export function fwCommand(deps: FwDeps = {}): Command {
  const stdout = deps.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = deps.stderr ?? ((t: string) => void process.stderr.write(t));
  const readFile = deps.readFile ?? ((p: string) => fsReadFile(p, 'utf8'));

  /** `fw`'s options, declared on `fw` and on each action, so both `fw -c F setup` and `fw setup -c F` work and each `--help` lists them. */
  const fwOptions = (command: Command): Command =>
    command
      .option(
        '-c, --config <file>',
        'config: protected ports from Open_Ports, Trusted_File, Firewall',
        DEFAULT_CONFIG_FILE,
      )
      .option(
        '--port <port/proto>',
        "protect this port (repeatable; instead of the doors' Open_Ports; default 22/tcp when no door has Open_Ports)",
        portOption,
      )
      .addOption(
        new Option(
          '--backend <kind>',
          'firewall backend (default: Firewall in the config, else nftables if nft exists, else iptables if iptables and ip6tables exist)',
        ).choices(['nftables', 'iptables']),
      )
      .option(
        '--chain-prefix <name>',
        "iptables chain names <name>_filter… ('ssh' gives the seed's ssh_*)",
        chainPrefixOption,
        'knock',
      )
      .option('--dry-run', 'print the exact nft text / iptables commands instead of running them');
  const action = (name: string): Command => fwOptions(fw.command(name)).allowExcessArguments(false);

  const fw = fwOptions(new Command('fw'))
    .description('drive the built-in firewall (nftables table inet knock, or iptables chains)')
    // Options after an action's name belong to the action (they are the same options).
    .enablePositionalOptions()
    .addHelpText(
      'after',
      `
Examples:
  knock-server fw setup                     create the rules from /etc/knockd.conf
  knock-server fw accept 192.0.2.7          open the protected ports for 300 s
  knock-server fw accept 2001:db8::7 --for 60
  knock-server fw drop 192.0.2.66           ban until flushed (--for S for a while)
  knock-server fw trust 198.51.100.0/24     always let a network in
  knock-server fw flush addr 192.0.2.7      revoke one address's grants
  knock-server fw flush filter | banned     revoke every grant | lift every ban
  knock-server fw list                      grants and bans with their remaining time

In a knockd.conf door:  Start_Command = knock-server fw accept %IP%`,
    );

  // Everything a leaf needs, from the options on `fw` (given before or after the leaf's name).
  async function context(leaf: Command) {
    const opts = leafOptions<FwOptions>(leaf);
    // The default config may be absent (a host driven by --port alone); one named with -c may not.
    const config = await readConfig(opts.config, opts.config !== DEFAULT_CONFIG_FILE);
    const kind: FirewallKind =
      opts.backend ?? config?.options.firewall ?? (await (deps.detect ?? detectFirewall)());
    if (kind === 'none') {
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
    const printed: string[] = [];
    const local = createFirewall(kind, {
      ...(deps.exec ? { exec: deps.exec } : {}),
      ...(opts.dryRun ? { dryRun: (text: string) => printed.push(text) } : {}),
      ...(opts.chainPrefix ? { iptablesChainPrefix: opts.chainPrefix } : {}),
    });
    const firewall =
      deps.wrapFirewall && !opts.dryRun ? await deps.wrapFirewall(local, config) : local;
    const ports = (): PortSpec[] => {
      const fromDoors = (config?.doors ?? []).flatMap((d) => d.openPorts ?? []);
      const chosen = opts.port ?? fromDoors;
      if (chosen.length > 0) return chosen;
      stderr(
        `no Open_Ports in ${opts.config} and no --port: protecting ${showPort(DEFAULT_PROTECTED)}\n`,
      );
      return [DEFAULT_PROTECTED];
    };
    const spec = async (): Promise<FirewallSpec> => {
      const trustedFile = config?.options.trustedFile;
      let trusted: string[] = [];
      if (trustedFile !== undefined) {
        const loaded = await loadTrusted(trustedFile, {
          readFile,
          ...(deps.lookup ? { lookup: deps.lookup } : {}),
        });
        for (const issue of loaded.issues) stderr(formatIssue(issue) + '\n');
        if (hasErrors(loaded.issues))
          throw new KnockError(
            'firewall.trustedInvalid',
            `${trustedFile} has errors: nothing was changed`,
            {
              exitCode: ExitCode.config,
              hint: 'fix the lines named above, then run the command again',
            },
          );
        trusted = loaded.addresses;
      }
      return { protectedPorts: ports(), trusted };
    };
    /** `fw accept` before `fw setup` (after a reboot, say) sets up first, as the seed's start did. */
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
    const flushDryRun = () => {
      if (opts.dryRun) for (const text of printed.splice(0)) stdout(text);
    };
    const done = (message: string) => {
      flushDryRun();
      if (!opts.dryRun) stdout(message + '\n');
    };
    return { firewall, kind, spec, ensureSetUp, done, ports, dryRun: opts.dryRun === true };
  }

  async function readConfig(path: string, required: boolean): Promise<KnockdConfig | undefined> {
    let text: string;
    try {
      text = await readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      if (!required && code === 'ENOENT') return undefined;
      throw new KnockError('firewall.configUnreadable', `cannot read config ${path} (${code})`, {
        exitCode: ExitCode.config,
        hint: 'point to your knockd.conf with -c FILE, or name the ports with --port 22/tcp',
      });
    }
    const parsed = parseConfig(text, path);
    if (hasErrors(parsed.issues)) {
      for (const issue of parsed.issues) stderr(formatIssue(issue) + '\n');
      throw new KnockError('firewall.configInvalid', `${path} has errors: nothing was changed`, {
        exitCode: ExitCode.config,
        hint: `\`knock-server check -c ${path}\` lists them`,
      });
    }
    return parsed.config;
  }

  action('setup')
    .description(
      'create or update the rules: protected ports, trusted list (grants and bans are kept)',
    )
    .action(async (_o, leaf: Command) => {
      const ctx = await context(leaf);
      const spec = await ctx.spec();
      await ctx.firewall.setup(spec);
      ctx.done(
        `${ctx.kind}: protecting ${spec.protectedPorts.map(showPort).join(', ')} (NEW connections); ` +
          `${spec.trusted.length} trusted address${spec.trusted.length === 1 ? '' : 'es'} or network${spec.trusted.length === 1 ? '' : 's'}`,
      );
    });

  action('status')
    .description('is the firewall set up, what it protects, how many grants and bans')
    .action(async (_o, leaf: Command) => {
      const ctx = await context(leaf);
      const s = await ctx.firewall.status();
      stdout(
        [
          `backend:   ${s.kind} (${s.detail})`,
          `active:    ${s.active ? 'yes' : 'no: run `knock-server fw setup`'}`,
          `protected: ${s.protectedPorts.map(showPort).join(', ') || '-'}`,
          `grants:    ${s.grants}`,
          `bans:      ${s.bans}`,
          `trusted:   ${s.trusted}`,
        ].join('\n') + '\n',
      );
    });

  action('accept')
    .description(
      "open the protected ports for ADDR (the seed's `accept`); refreshes an existing grant",
    )
    .argument('<addr>', 'IPv4 or IPv6 address')
    .option('--for <seconds>', `how long (0 = until flushed)`, secondsOption, DEFAULT_OPEN_TIMEOUT)
    .action(async (addr: string, o: { for: number }, leaf: Command) => {
      const host = requireHost(addr);
      const ctx = await context(leaf);
      await ctx.ensureSetUp();
      const ports = ctx.ports();
      await ctx.firewall.grant(host.address, ports, o.for);
      ctx.done(
        `${host.address} may connect to ${ports.map(showPort).join(', ')} for ${o.for === 0 ? 'ever (until flushed)' : `${o.for} s`}`,
      );
    });

  action('trust')
    .description('always let ADDR or a network in (until the next setup; lasting: Trusted_File)')
    .argument('<addr>', 'address or CIDR, IPv4 or IPv6')
    .action(async (addr: string, _o, leaf: Command) => {
      const network = requireNetwork(addr);
      const ctx = await context(leaf);
      await ctx.ensureSetUp();
      await ctx.firewall.trust(network.cidr);
      ctx.done(`${network.cidr} is trusted`);
    });

  action('drop')
    .description(
      "ban ADDR from the protected ports (the seed's `drop`), even if granted or trusted",
    )
    .argument('<addr>', 'IPv4 or IPv6 address')
    .option('--for <seconds>', 'how long (0 = until flushed)', secondsOption, 0)
    .action(async (addr: string, o: { for: number }, leaf: Command) => {
      const host = requireHost(addr);
      const ctx = await context(leaf);
      await ctx.ensureSetUp();
      await ctx.firewall.ban(host.address, o.for);
      ctx.done(`${host.address} is banned ${o.for === 0 ? 'until flushed' : `for ${o.for} s`}`);
    });

  action('unban')
    .description('lift the ban on ADDR')
    .argument('<addr>', 'IPv4 or IPv6 address')
    .action(async (addr: string, _o, leaf: Command) => {
      const host = requireHost(addr);
      const ctx = await context(leaf);
      await ctx.firewall.unban(host.address);
      ctx.done(`${host.address} is not banned`);
    });

  action('flush')
    .description(
      'flush addr ADDR: revoke its grants · flush filter: every grant · flush banned: every ban',
    )
    .argument('<what>', 'addr | filter | banned (or an address, as the seed script took)')
    .argument('[addr]', 'the address, for `flush addr`')
    .action(async (what: string, addr: string | undefined, _o, leaf: Command) => {
      if (what === 'filter' || what === 'banned') {
        if (addr !== undefined) throw usage(`flush ${what} takes no address (got '${addr}')`);
        const ctx = await context(leaf);
        if (what === 'filter') await ctx.firewall.flushGrants();
        else await ctx.firewall.flushBans();
        ctx.done(what === 'filter' ? 'every grant revoked' : 'every ban lifted');
        return;
      }
      const target = what === 'addr' ? addr : what;
      if (target === undefined)
        throw usage('flush addr needs an address: knock-server fw flush addr 192.0.2.7');
      if (what !== 'addr' && addr !== undefined)
        throw usage(`unknown flush target '${what}': use addr, filter or banned`);
      const host = requireHost(target);
      const ctx = await context(leaf);
      await ctx.firewall.revoke(host.address);
      ctx.done(`${host.address}: grants revoked`);
    });

  action('list')
    .description('every grant and ban with its remaining time')
    .option('--all', 'also list the trusted addresses and networks')
    .option('--json', 'one JSON array')
    .action(async (o: { all?: boolean; json?: boolean }, leaf: Command) => {
      const ctx = await context(leaf);
      const entries = (await ctx.firewall.list()).filter((e) => o.all || e.kind !== 'trusted');
      stdout(o.json ? JSON.stringify(entries) + '\n' : formatEntries(entries));
    });

  action('teardown')
    .description(
      'remove everything the firewall created (grants and bans too): the host is as before',
    )
    .action(async (_o, leaf: Command) => {
      const ctx = await context(leaf);
      await ctx.firewall.teardown();
      ctx.done(`${ctx.kind}: knock firewall removed`);
    });

  return fw;
}

const usage = (message: string) =>
  new KnockError('firewall.usage', message, {
    exitCode: ExitCode.usage,
    hint: 'see knock-server fw --help',
  });
