/**
 * `knock-server fw …`: the seed deployment's init-script actions (setup, accept, trust,
 * drop, flush addr|filter|banned) plus status, list, unban and teardown, on the built-in
 * backends. A config that ran `/etc/rc.d/init.d/knockd accept %IP%` can run
 * `knock-server fw accept %IP%` instead. This module is the commander program (options,
 * actions, help); what an action works with (config, backend, ports, Trusted_File) is
 * fw-context.ts; what it prints is firewall/format.ts.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CONFIG_FILE, DEFAULT_OPEN_TIMEOUT, ExitCode, KnockError } from '@knock/shared';
import { requireHost, requireNetwork } from '../firewall/address.js';
import { describeSetup, formatEntries, formatStatus, showPort } from '../firewall/format.js';
import type { PortSpec } from '../firewall/types.js';
import { checkSeconds, parsePortSpec } from '../firewall/validate.js';
import { fwContext, type FwContext, type FwDeps, type FwIo } from './fw-context.js';

export { DEFAULT_PROTECTED, type FwDeps } from './fw-context.js';

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

const EXAMPLES = `
Examples:
  knock-server fw setup                     create the rules from /etc/knockd.conf
  knock-server fw accept 192.0.2.7          open the protected ports for 300 s
  knock-server fw accept 2001:db8::7 --for 60
  knock-server fw drop 192.0.2.66           ban until flushed (--for S for a while)
  knock-server fw trust 198.51.100.0/24     always let a network in
  knock-server fw flush addr 192.0.2.7      revoke one address's grants
  knock-server fw flush filter | banned     revoke every grant | lift every ban
  knock-server fw list                      grants and bans with their remaining time

In a knockd.conf door:  Start_Command = knock-server fw accept %IP%`;

/** What each action's definition gets: a new `fw` action carrying the shared options, its context, stdout. */
interface Kit {
  action: (name: string) => Command;
  context: (leaf: Command) => Promise<FwContext>;
  stdout: (text: string) => void;
}

export function fwCommand(deps: FwDeps = {}): Command {
  const io: FwIo = {
    stdout: deps.stdout ?? ((t: string) => void process.stdout.write(t)),
    stderr: deps.stderr ?? ((t: string) => void process.stderr.write(t)),
    readFile: deps.readFile ?? ((p: string) => fsReadFile(p, 'utf8')),
    deps,
  };
  const fw = fwOptions(new Command('fw'))
    .description('drive the built-in firewall (nftables table inet knock, or iptables chains)')
    // Options after an action's name belong to the action (they are the same options).
    .enablePositionalOptions()
    .addHelpText('after', EXAMPLES);
  const kit: Kit = {
    action: (name) => fwOptions(fw.command(name)).allowExcessArguments(false),
    context: (leaf) => fwContext(leaf, io),
    stdout: io.stdout,
  };
  // In the order `fw --help` lists them.
  for (const add of [setup, status, accept, trust, drop, unban, flush, list, teardown]) add(kit);
  return fw;
}

function setup({ action, context }: Kit): void {
  action('setup')
    .description(
      'create or update the rules: protected ports, trusted list (grants and bans are kept)',
    )
    .action(async (_o, leaf: Command) => {
      const ctx = await context(leaf);
      const spec = await ctx.spec();
      await ctx.firewall.setup(spec);
      ctx.done(describeSetup(ctx.kind, spec));
    });
}

function status({ action, context, stdout }: Kit): void {
  action('status')
    .description('is the firewall set up, what it protects, how many grants and bans')
    .action(async (_o, leaf: Command) => {
      const ctx = await context(leaf);
      stdout(formatStatus(await ctx.firewall.status()));
    });
}

function accept({ action, context }: Kit): void {
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
}

function trust({ action, context }: Kit): void {
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
}

function drop({ action, context }: Kit): void {
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
}

function unban({ action, context }: Kit): void {
  action('unban')
    .description('lift the ban on ADDR')
    .argument('<addr>', 'IPv4 or IPv6 address')
    .action(async (addr: string, _o, leaf: Command) => {
      const host = requireHost(addr);
      const ctx = await context(leaf);
      await ctx.firewall.unban(host.address);
      ctx.done(`${host.address} is not banned`);
    });
}

function flush({ action, context }: Kit): void {
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
}

function list({ action, context, stdout }: Kit): void {
  action('list')
    .description('every grant and ban with its remaining time')
    .option('--all', 'also list the trusted addresses and networks')
    .option('--json', 'one JSON array')
    .action(async (o: { all?: boolean; json?: boolean }, leaf: Command) => {
      const ctx = await context(leaf);
      const entries = (await ctx.firewall.list()).filter((e) => o.all || e.kind !== 'trusted');
      stdout(o.json ? JSON.stringify(entries) + '\n' : formatEntries(entries));
    });
}

function teardown({ action, context }: Kit): void {
  action('teardown')
    .description(
      'remove everything the firewall created (grants and bans too): the host is as before',
    )
    .action(async (_o, leaf: Command) => {
      const ctx = await context(leaf);
      await ctx.firewall.teardown();
      ctx.done(`${ctx.kind}: knock firewall removed`);
    });
}

const usage = (message: string) =>
  new KnockError('firewall.usage', message, {
    exitCode: ExitCode.usage,
    hint: 'see knock-server fw --help',
  });
