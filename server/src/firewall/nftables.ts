// The nftables backend: every change is one `nft -f -` transaction on stdin.
import { ExitCode, KnockError } from '@knock/shared';
import { requireHost, requireNetwork } from './address.js';
import { systemExec } from './exec.js';
import {
  NFT_TABLE,
  nftBanText,
  nftFlushBansText,
  nftFlushGrantsText,
  nftGrantText,
  nftInPlaceProbeCleanupText,
  nftInPlaceProbeTexts,
  NFT_PROBE_LIST,
  nftInPlaceProbeUpdated,
  nftRevokeText,
  nftSetupText,
  nftTeardownText,
  nftTrustText,
  nftUnbanText,
  parseNftTable,
  type NftTable,
} from './nft-text.js';
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

const NOT_SET_UP = /No such file or directory/;

export function nftFailure(result: ExecResult, what: string): KnockError {
  if (result.code === 127) {
    const onPathOnly = /not on PATH/.test(result.stderr);
    return new KnockError(
      'firewall.nftMissing',
      onPathOnly ? `${result.stderr.trim()} (${what})` : `nft is not installed (${what})`,
      {
        exitCode: ExitCode.firewall,
        hint: 'install it (apt-get install nftables), or set Firewall = iptables or none in [options]',
      },
    );
  }
  const stderr = result.stderr.trim();
  if (/Operation not permitted/.test(stderr)) {
    return new KnockError('firewall.permission', `nft was refused (${what}): ${stderr}`, {
      exitCode: ExitCode.firewall,
      hint: 'run as root, or with CAP_NET_ADMIN (the systemd unit grants it)',
    });
  }
  return new KnockError('firewall.nftFailed', `nft failed (${what}): ${stderr}`, {
    exitCode: ExitCode.firewall,
  });
}

const notSetUp = (what: string) =>
  new KnockError('firewall.notSetUp', `the knock firewall is not set up (${what})`, {
    exitCode: ExitCode.firewall,
    hint: 'run `knock-server fw setup` (knock-server does it at start when Firewall is set)',
  });

interface Pending {
  text: string;
  what: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class NftablesFirewall implements Firewall {
  readonly kind = 'nftables' as const;
  private readonly exec: Exec;
  private readonly dryRun: ((text: string) => void) | undefined;
  private queue: Pending[] = [];
  private running = false;
  private inPlace: Promise<boolean> | undefined;

  constructor(deps: FirewallDeps = {}) {
    this.exec = deps.exec ?? systemExec;
    this.dryRun = deps.dryRun;
  }

  async setup(spec: FirewallSpec): Promise<void> {
    checkPorts(spec.protectedPorts);
    const trusted = spec.trusted.map((t) => requireNetwork(t, 'trusted address or CIDR').cidr);
    await this.apply(nftSetupText({ protectedPorts: spec.protectedPorts, trusted }), 'setup');
    this.inPlace ??= this.updatesInPlace();
    await this.inPlace;
  }

  async grant(address: string, ports: PortSpec[], seconds: number): Promise<void> {
    const host = requireHost(address);
    checkPorts(ports);
    checkSeconds(seconds);
    if (ports.length === 0) return;
    const inPlace = (await this.inPlace) ?? false;
    await this.apply(nftGrantText(host.address, ports, seconds, inPlace), `grant ${host.address}`);
  }

  async ban(address: string, seconds: number): Promise<void> {
    const host = requireHost(address);
    checkSeconds(seconds);
    await this.apply(nftBanText(host.address, seconds), `ban ${host.address}`);
  }

  async unban(address: string): Promise<void> {
    const host = requireHost(address);
    await this.apply(nftUnbanText(host.address), `unban ${host.address}`);
  }

  async trust(addressOrCidr: string): Promise<void> {
    const network = requireNetwork(addressOrCidr);
    await this.apply(nftTrustText(network.cidr), `trust ${network.cidr}`);
  }

  async revoke(address: string, ports?: readonly PortSpec[]): Promise<void> {
    const host = requireHost(address);
    const grants = (await this.read()).entries.filter(
      (e) =>
        e.kind === 'grant' &&
        e.address === host.address &&
        (ports === undefined ||
          ports.some((p) => p.port === e.port?.port && p.protocol === e.port.protocol)),
    );
    if (grants.length === 0) return;
    await this.apply(nftRevokeText(grants), `revoke ${host.address}`);
  }

  async flushGrants(): Promise<void> {
    await this.apply(nftFlushGrantsText(), 'flush grants');
  }

  async flushBans(): Promise<void> {
    await this.apply(nftFlushBansText(), 'flush bans');
  }

  async list(): Promise<FirewallEntry[]> {
    return (await this.read()).entries;
  }

  async status(): Promise<FirewallStatus> {
    const version = await this.exec('nft', ['--version']);
    if (version.code !== 0) throw nftFailure(version, 'status');
    const listed = await this.exec('nft', ['-j', 'list', 'table', ...NFT_TABLE.split(' ')]);
    const base = { kind: this.kind, grants: 0, bans: 0, trusted: 0, protectedPorts: [] };
    if (listed.code !== 0) {
      if (NOT_SET_UP.test(listed.stderr))
        return {
          ...base,
          active: false,
          detail: `${version.stdout.trim()}; no table ${NFT_TABLE}`,
        };
      throw nftFailure(listed, 'status');
    }
    const table = parseNftTable(listed.stdout);
    const count = (kind: FirewallEntry['kind']) =>
      table.entries.filter((e) => e.kind === kind).length;
    return {
      kind: this.kind,
      active: true,
      protectedPorts: table.protectedPorts,
      grants: count('grant'),
      bans: count('ban'),
      trusted: count('trusted'),
      detail: `${version.stdout.trim()}; table ${NFT_TABLE}`,
    };
  }

  async teardown(): Promise<void> {
    await this.apply(nftTeardownText(), 'teardown');
  }

  /**
   * Whether this kernel updates the timeout of an element that is already in a set
   * (Linux 6.10 and later): then a refresh is one `add element … timeout`, the element is
   * never out of the set. Older kernels ignore the new timeout; there a refresh deletes
   * and re-adds it in one transaction, which nft commits atomically (no packet sees the
   * set without it either). Asked once, at setup, in a scratch table of our own; a
   * firewall used without setup (`fw accept`) takes the transaction.
   */
  private async updatesInPlace(): Promise<boolean> {
    if (this.dryRun) return false;
    try {
      try {
        for (const input of nftInPlaceProbeTexts())
          if ((await this.exec('nft', ['-f', '-'], { input })).code !== 0) return false;
        const listed = await this.exec('nft', NFT_PROBE_LIST);
        return listed.code === 0 && nftInPlaceProbeUpdated(listed.stdout);
      } finally {
        await this.exec('nft', ['-f', '-'], { input: nftInPlaceProbeCleanupText() });
      }
    } catch {
      return false;
    }
  }

  private async read(): Promise<NftTable> {
    const result = await this.exec('nft', ['-j', 'list', 'table', ...NFT_TABLE.split(' ')]);
    if (result.code !== 0) {
      // Nothing set up means nothing granted: an empty list, not an error (dry runs too).
      if (result.code !== 127 && NOT_SET_UP.test(result.stderr))
        return { entries: [], protectedPorts: [] };
      throw nftFailure(result, 'list');
    }
    try {
      return parseNftTable(result.stdout);
    } catch (error) {
      throw new KnockError(
        'firewall.nftOutput',
        `cannot read nft's JSON output: ${String(error)}`,
        {
          exitCode: ExitCode.firewall,
          cause: error,
        },
      );
    }
  }

  /**
   * Applies `text` as one transaction. Changes requested while one runs are queued and
   * sent together as the next transaction (a burst of 1,000 grants is a handful of nft
   * runs); if a combined one fails, each is retried alone so one bad change cannot sink
   * the others.
   */
  private apply(text: string, what: string): Promise<void> {
    if (this.dryRun) {
      this.dryRun(text);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ text, what, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, 500);
        const result = await this.run(batch.map((p) => p.text).join(''));
        if (result.code === 0) {
          for (const p of batch) p.resolve();
          continue;
        }
        if (batch.length === 1) {
          const [only] = batch;
          only!.reject(this.failure(result, only!.what));
          continue;
        }
        for (const p of batch) {
          const alone = await this.run(p.text);
          if (alone.code === 0) p.resolve();
          else p.reject(this.failure(alone, p.what));
        }
      }
    } finally {
      this.running = false;
    }
  }

  private run(text: string): Promise<ExecResult> {
    return this.exec('nft', ['-f', '-'], { input: text });
  }

  private failure(result: ExecResult, what: string): KnockError {
    if (
      result.code !== 127 &&
      what !== 'setup' &&
      what !== 'teardown' &&
      NOT_SET_UP.test(result.stderr)
    )
      return notSetUp(what);
    return nftFailure(result, what);
  }
}
