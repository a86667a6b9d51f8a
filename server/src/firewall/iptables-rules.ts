// The iptables ruleset as argv arrays, and `iptables -S` parsing (pure).
//
// The seed's layout: INPUT sends NEW connections to the protected ports to <p>_policy,
// which runs <p>_banned (DROP), <p>_trusted (ACCEPT), <p>_filter (grants, ACCEPT), LOG
// and DROP. Expiry needs no background `sleep`: each grant and timed ban carries
// `-m time --datestop` (UTC), so the kernel stops matching it on time even if no
// process of ours is alive; expired rules are deleted on the next setup, grant, ban or list.
import type { FirewallEntry, PortSpec } from './types.js';
import { LOG_PREFIX } from './nft-text.js';
import { parseNetwork } from './address.js';

export interface Chains {
  filter: string;
  trusted: string;
  banned: string;
  policy: string;
}

export const chainsFor = (prefix = 'knock'): Chains => ({
  filter: `${prefix}_filter`,
  trusted: `${prefix}_trusted`,
  banned: `${prefix}_banned`,
  policy: `${prefix}_policy`,
});

export const toolFor = (family: 4 | 6): 'iptables' | 'ip6tables' =>
  family === 4 ? 'iptables' : 'ip6tables';

/** Wait for the xtables lock instead of failing when another tool holds it. */
export const WAIT = ['-w', '5'];

/**
 * `2026-11-26T01:22:00`: the last whole UTC second a rule expiring at `untilMs` still
 * matches (xt_time matches while now <= datestop, to the second: expiry is within ±0.5 s).
 */
export function datestop(untilMs: number): string {
  return new Date(Math.round(untilMs / 1000) * 1000 - 1000).toISOString().slice(0, 19);
}

const timeMatch = (untilMs: number | undefined) =>
  untilMs === undefined ? [] : ['-m', 'time', '--datestop', datestop(untilMs)];

export function policyRules(c: Chains): string[][] {
  return [
    ['-A', c.policy, '-j', c.banned],
    ['-A', c.policy, '-j', c.trusted],
    ['-A', c.policy, '-j', c.filter],
    [
      '-A',
      c.policy,
      '-m',
      'limit',
      '--limit',
      '10/sec',
      '--limit-burst',
      '20',
      '-j',
      'LOG',
      '--log-prefix',
      LOG_PREFIX,
    ],
    ['-A', c.policy, '-j', 'DROP'],
  ];
}

/** `-p tcp -m tcp --dport 22`: the match of one protected port. */
const portMatch = (p: PortSpec): string[] => [
  '-p',
  p.protocol,
  '-m',
  p.protocol,
  '--dport',
  String(p.port),
];

/** INPUT jumps, one per protected port, inserted at the top: NEW connections only. */
export function inputJumps(c: Chains, ports: readonly PortSpec[]): string[][] {
  return ports.map((p, i) => [
    '-I',
    'INPUT',
    String(i + 1),
    ...portMatch(p),
    '-m',
    'conntrack',
    '--ctstate',
    'NEW',
    '-j',
    c.policy,
  ]);
}

export const trustRule = (c: Chains, cidr: string): string[] => [
  '-A',
  c.trusted,
  '-s',
  cidr,
  '-j',
  'ACCEPT',
];

export const grantRule = (c: Chains, address: string, p: PortSpec, untilMs?: number): string[] => [
  '-I',
  c.filter,
  '-s',
  address,
  ...portMatch(p),
  ...timeMatch(untilMs),
  '-j',
  'ACCEPT',
];

export const banRule = (c: Chains, address: string, untilMs?: number): string[] => [
  '-I',
  c.banned,
  '-s',
  address,
  ...timeMatch(untilMs),
  '-j',
  'DROP',
];

// ---- reading `iptables -S` ----

/** Splits one `-S` line into argv, honouring the double quotes iptables prints. */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null)
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

export interface ParsedRule {
  chain: string;
  /** The rule as argv after `-A CHAIN`: give it to `-D CHAIN` to delete exactly this rule. */
  spec: string[];
  source?: string;
  port?: PortSpec;
  /** Epoch ms after which the rule no longer matches. */
  expiresAt?: number;
  target?: string;
}

export interface IptablesState {
  chains: Set<string>;
  rules: ParsedRule[];
}

const option = (argv: readonly string[], name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

/** Strips the `/32` / `/128` iptables prints after a single address. */
function sourceText(text: string): string {
  const network = parseNetwork(text);
  return network ? network.cidr : text;
}

export function parseIptablesS(text: string): IptablesState {
  const chains = new Set<string>();
  const rules: ParsedRule[] = [];
  for (const line of text.split('\n')) {
    const argv = splitRule(line.trim());
    const [op, chain] = argv;
    if (chain === undefined) continue;
    if (op === '-N' || op === '-P') {
      chains.add(chain);
      continue;
    }
    if (op !== '-A') continue;
    const rule: ParsedRule = { chain, spec: argv.slice(2) };
    const source = option(argv, '-s');
    if (source !== undefined) rule.source = sourceText(source);
    const proto = option(argv, '-p');
    const dport = option(argv, '--dport');
    if ((proto === 'tcp' || proto === 'udp') && dport !== undefined && /^\d+$/.test(dport))
      rule.port = { protocol: proto, port: Number(dport) };
    const stop = option(argv, '--datestop');
    if (stop !== undefined) {
      const ms = Date.parse(`${stop}Z`);
      if (!Number.isNaN(ms)) rule.expiresAt = ms + 1000;
    }
    const target = option(argv, '-j');
    if (target !== undefined) rule.target = target;
    rules.push(rule);
  }
  return { chains, rules };
}

/** Grants, bans and trusted entries of one family's state, as of `now`. */
export function entriesOf(state: IptablesState, c: Chains, now: number): FirewallEntry[] {
  const entries: FirewallEntry[] = [];
  for (const r of state.rules) {
    if (r.source === undefined) continue;
    if (r.expiresAt !== undefined && r.expiresAt <= now) continue;
    const remaining =
      r.expiresAt === undefined ? undefined : Math.max(0, Math.floor((r.expiresAt - now) / 1000));
    if (r.chain === c.filter && r.target === 'ACCEPT') {
      const e: FirewallEntry = { kind: 'grant', address: r.source };
      if (r.port) e.port = r.port;
      if (remaining !== undefined) e.remaining = remaining;
      entries.push(e);
    } else if (r.chain === c.banned && r.target === 'DROP') {
      const e: FirewallEntry = { kind: 'ban', address: r.source };
      if (remaining !== undefined) e.remaining = remaining;
      entries.push(e);
    } else if (r.chain === c.trusted && r.target === 'ACCEPT') {
      entries.push({ kind: 'trusted', address: r.source });
    }
  }
  return entries;
}
