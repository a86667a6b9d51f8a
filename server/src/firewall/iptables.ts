// The iptables backend (iptables + ip6tables), for hosts without nftables. Each change
// is a few argv calls through execFile; calls are serialised so our own reads and
// deletes never race each other.
import { ExitCode, KnockError } from '@knock/shared';
import { familyOf, requireHost, requireNetwork } from './address.js';
import { showArgv, systemExec } from './exec.js';
import {
  WAIT,
  banRule,
  chainsFor,
  entriesOf,
  grantRule,
  inputJumps,
  parseIptablesS,
  policyRules,
  toolFor,
  trustRule,
  type Chains,
  type IptablesState,
  type ParsedRule,
} from './iptables-rules.js';
import { uniquePorts } from './nft-text.js';
import type {
  Exec,
  ExecResult,
  Firewall,
  FirewallDeps,
  FirewallEntry,
  FirewallSpec,
  FirewallStatus,
  PortSpec,
} from './types.js';
import { checkPorts, checkSeconds } from './validate.js';

type Family = 4 | 6;
const FAMILIES = [4, 6] as const;

function iptablesFailure(tool: string, args: readonly string[], result: ExecResult): KnockError {
  if (result.code === 127) {
    const onPathOnly = /not on PATH/.test(result.stderr);
    return new KnockError(
      'firewall.iptablesMissing',
      onPathOnly ? result.stderr.trim() : `${tool} is not installed`,
      {
        exitCode: ExitCode.firewall,
        hint: 'install it (apt-get install iptables), or set Firewall = nftables or none in [options]',
      },
    );
  }
  return new KnockError(
    'firewall.iptablesFailed',
    `${showArgv(tool, args)} failed: ${result.stderr.trim()}`,
    {
      exitCode: ExitCode.firewall,
      ...(/Permission denied|not permitted/i.test(result.stderr)
        ? { hint: 'run as root, or with CAP_NET_ADMIN (the systemd unit grants it)' }
        : {}),
    },
  );
}

export class IptablesFirewall implements Firewall {
  readonly kind = 'iptables' as const;
  private readonly exec: Exec;
  private readonly dryRun: ((text: string) => void) | undefined;
  private readonly now: () => number;
  private readonly c: Chains;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(deps: FirewallDeps = {}) {
    this.exec = deps.exec ?? systemExec;
    this.dryRun = deps.dryRun;
    this.now = deps.now ?? Date.now;
    this.c = chainsFor(deps.iptablesChainPrefix);
  }

  setup(spec: FirewallSpec): Promise<void> {
    checkPorts(spec.protectedPorts);
    const trusted = spec.trusted.map((t) => requireNetwork(t, 'trusted address or CIDR').cidr);
    const ports = uniquePorts(spec.protectedPorts);
    return this.serial(async () => {
      for (const family of FAMILIES) {
        const state = await this.read(family);
        const c = this.c;
        for (const chain of [c.filter, c.trusted, c.banned, c.policy])
          if (!state.chains.has(chain)) await this.change(family, ['-N', chain]);
        await this.change(family, ['-F', c.policy]);
        for (const rule of policyRules(c)) await this.change(family, rule);
        await this.change(family, ['-F', c.trusted]);
        for (const cidr of trusted.filter((t) => familyOf(t) === family))
          await this.change(family, trustRule(c, cidr));
        // The INPUT jumps: left alone when already exactly right (setup twice changes nothing).
        const jumps = state.rules.filter((r) => r.chain === 'INPUT' && r.target === c.policy);
        const have = jumps.map((r) => `${r.port?.protocol}/${r.port?.port}`).sort();
        const want = ports.map((p) => `${p.protocol}/${p.port}`).sort();
        if (have.join() !== want.join()) {
          for (const r of jumps) await this.change(family, ['-D', 'INPUT', ...r.spec]);
          for (const rule of inputJumps(c, ports)) await this.change(family, rule);
        }
        await this.deleteExpired(family, state);
      }
    });
  }

  grant(address: string, ports: PortSpec[], seconds: number): Promise<void> {
    const host = requireHost(address);
    checkPorts(ports);
    checkSeconds(seconds);
    return this.serial(async () => {
      const family = host.family;
      const state = await this.readSetUp(family, `grant ${host.address}`);
      const until = seconds > 0 ? this.now() + seconds * 1000 : undefined;
      const replaced: ParsedRule[] = [];
      for (const port of uniquePorts(ports)) {
        // Refresh, never duplicate, never a gap: the new rule goes in first, then this
        // address+port's older rules go (deleting first would refuse a connection between).
        const old = state.rules.filter(
          (r) =>
            r.chain === this.c.filter &&
            r.source === host.address &&
            r.port?.port === port.port &&
            r.port.protocol === port.protocol,
        );
        await this.change(family, grantRule(this.c, host.address, port, until));
        await this.deleteRules(family, old);
        replaced.push(...old);
      }
      // (An expired rule just replaced is gone already: deleting it again would fail.)
      await this.deleteExpired(family, {
        ...state,
        rules: state.rules.filter((r) => !replaced.includes(r)),
      });
    });
  }

  ban(address: string, seconds: number): Promise<void> {
    const host = requireHost(address);
    checkSeconds(seconds);
    return this.serial(async () => {
      const state = await this.readSetUp(host.family, `ban ${host.address}`);
      await this.deleteRules(host.family, this.rulesOf(state, this.c.banned, host.address));
      const until = seconds > 0 ? this.now() + seconds * 1000 : undefined;
      await this.change(host.family, banRule(this.c, host.address, until));
      await this.deleteExpired(host.family, state);
    });
  }

  unban(address: string): Promise<void> {
    const host = requireHost(address);
    return this.serial(async () => {
      const state = await this.read(host.family);
      await this.deleteRules(host.family, this.rulesOf(state, this.c.banned, host.address));
    });
  }

  trust(addressOrCidr: string): Promise<void> {
    const network = requireNetwork(addressOrCidr);
    return this.serial(async () => {
      const state = await this.readSetUp(network.family, `trust ${network.cidr}`);
      if (this.rulesOf(state, this.c.trusted, network.cidr).length > 0) return;
      await this.change(network.family, trustRule(this.c, network.cidr));
    });
  }

  revoke(address: string, ports?: readonly PortSpec[]): Promise<void> {
    const host = requireHost(address);
    return this.serial(async () => {
      const state = await this.read(host.family);
      const rules = this.rulesOf(state, this.c.filter, host.address).filter(
        (r) =>
          ports === undefined ||
          ports.some((p) => p.port === r.port?.port && p.protocol === r.port.protocol),
      );
      await this.deleteRules(host.family, rules);
    });
  }

  flushGrants(): Promise<void> {
    return this.flushChain(this.c.filter);
  }

  flushBans(): Promise<void> {
    return this.flushChain(this.c.banned);
  }

  list(): Promise<FirewallEntry[]> {
    return this.serial(async () => {
      const entries: FirewallEntry[] = [];
      for (const family of FAMILIES) {
        const state = await this.read(family);
        await this.deleteExpired(family, state);
        entries.push(...entriesOf(state, this.c, this.now()));
      }
      return entries;
    });
  }

  async status(): Promise<FirewallStatus> {
    const version = await this.exec('iptables', ['--version']);
    if (version.code !== 0) throw iptablesFailure('iptables', ['--version'], version);
    const entries = await this.list();
    const states = await Promise.all(FAMILIES.map((f) => this.read(f)));
    const jumps = states.flatMap((s) =>
      s.rules.filter((r) => r.chain === 'INPUT' && r.target === this.c.policy),
    );
    const active = states.every((s) => s.chains.has(this.c.policy)) && jumps.length > 0;
    const protectedPorts = uniquePorts(jumps.flatMap((r) => (r.port ? [r.port] : [])));
    const count = (kind: FirewallEntry['kind']) => entries.filter((e) => e.kind === kind).length;
    return {
      kind: this.kind,
      active,
      protectedPorts,
      grants: count('grant'),
      bans: count('ban'),
      trusted: count('trusted'),
      detail: `${version.stdout.trim()}; chains ${Object.values(this.c).join(', ')}${
        active ? '' : ' (not set up)'
      }`,
    };
  }

  teardown(): Promise<void> {
    return this.serial(async () => {
      for (const family of FAMILIES) {
        const state = await this.read(family);
        const c = this.c;
        const jumps = state.rules.filter((r) => r.chain === 'INPUT' && r.target === c.policy);
        await this.deleteRules(family, jumps);
        const ours = [c.policy, c.filter, c.trusted, c.banned].filter((n) => state.chains.has(n));
        for (const chain of ours) await this.change(family, ['-F', chain]);
        for (const chain of ours) await this.change(family, ['-X', chain]);
      }
    });
  }

  // ---- helpers ----

  private flushChain(chain: string): Promise<void> {
    return this.serial(async () => {
      for (const family of FAMILIES) {
        const state = await this.read(family);
        if (state.chains.has(chain)) await this.change(family, ['-F', chain]);
      }
    });
  }

  private rulesOf(state: IptablesState, chain: string, source: string): ParsedRule[] {
    return state.rules.filter((r) => r.chain === chain && r.source === source);
  }

  private async deleteRules(family: Family, rules: readonly ParsedRule[]): Promise<void> {
    for (const r of rules) await this.change(family, ['-D', r.chain, ...r.spec]);
  }

  /** Expired rules no longer match (the kernel checks the time); this just tidies up. */
  private async deleteExpired(family: Family, state: IptablesState): Promise<void> {
    const now = this.now();
    const expired = state.rules.filter(
      (r) =>
        (r.chain === this.c.filter || r.chain === this.c.banned) &&
        r.expiresAt !== undefined &&
        r.expiresAt <= now,
    );
    await this.deleteRules(family, expired);
  }

  private async read(family: Family): Promise<IptablesState> {
    const tool = toolFor(family);
    const args = [...WAIT, '-S'];
    const result = await this.exec(tool, args);
    if (result.code !== 0) throw iptablesFailure(tool, args, result);
    return parseIptablesS(result.stdout);
  }

  private async readSetUp(family: Family, what: string): Promise<IptablesState> {
    const state = await this.read(family);
    if (!state.chains.has(this.c.policy) && !this.dryRun) {
      throw new KnockError('firewall.notSetUp', `the knock firewall is not set up (${what})`, {
        exitCode: ExitCode.firewall,
        hint: `no chain ${this.c.policy}: run \`knock-server fw setup\` (knock-server does it at start)`,
      });
    }
    return state;
  }

  private async change(family: Family, args: readonly string[]): Promise<void> {
    const tool = toolFor(family);
    const argv = [...WAIT, ...args];
    if (this.dryRun) {
      this.dryRun(showArgv(tool, argv) + '\n');
      return;
    }
    const result = await this.exec(tool, argv);
    if (result.code !== 0) throw iptablesFailure(tool, argv, result);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
