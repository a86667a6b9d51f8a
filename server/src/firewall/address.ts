// Address and CIDR checks shared by the trusted-file parser, the backends and the CLI (pure).
import ipaddr, { type IPv4, type IPv6 } from '../ipaddr.js';
import { ExitCode, KnockError } from '@knock/shared';

export interface Host {
  family: 4 | 6;
  /** Canonical text: dotted quad, or RFC 5952 IPv6; IPv4-mapped IPv6 becomes IPv4. */
  address: string;
}

export interface Network {
  family: 4 | 6;
  /** Canonical `network/prefix`, or just the address for a full-length prefix. */
  cidr: string;
  /** The text had bits set after the prefix (10.0.0.5/24): we use the network (10.0.0.0/24). */
  hostBitsSet: boolean;
}

/**
 * One IPv4 or IPv6 address. IPv4 must be four decimal parts: ipaddr.js (like inet_aton)
 * also takes `10.1` or `0x7f.1`, which nobody means in a firewall list. Zones (`%eth0`) are refused.
 */
export function parseHost(text: string): Host | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return { family: 4, address: ipaddr.IPv4.parse(text).toString() };
  }
  if (text.includes(':') && ipaddr.IPv6.isValid(text)) {
    const v6 = ipaddr.IPv6.parse(text);
    if (v6.zoneId !== undefined) return undefined;
    if (v6.isIPv4MappedAddress()) return { family: 4, address: v6.toIPv4Address().toString() };
    return { family: 6, address: v6.toRFC5952String() };
  }
  return undefined;
}

/** `address/prefix` (or a plain address, a full-length network). */
export function parseNetwork(text: string): Network | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const host = parseHost(text);
    return host && { family: host.family, cidr: host.address, hostBitsSet: false };
  }
  const base = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  // An IPv4-mapped base would change the prefix's meaning: take only plain families here.
  const family = ipaddr.IPv4.isValidFourPartDecimal(base)
    ? 4
    : base.includes(':') && ipaddr.IPv6.isValid(base)
      ? 6
      : undefined;
  if (family === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (prefix > max) return undefined;
  if (family === 6 && ipaddr.IPv6.parse(base).zoneId !== undefined) return undefined;
  const given = family === 4 ? ipaddr.IPv4.parse(base) : ipaddr.IPv6.parse(base);
  const network =
    family === 4
      ? ipaddr.IPv4.networkAddressFromCIDR(`${base}/${prefix}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${base}/${prefix}`);
  const show = (a: IPv4 | IPv6) =>
    a.kind() === 'ipv6' ? (a as IPv6).toRFC5952String() : a.toString();
  const hostBitsSet = show(network) !== show(given);
  return {
    family,
    cidr: prefix === max ? show(network) : `${show(network)}/${prefix}`,
    hostBitsSet,
  };
}

export const familyOf = (text: string): 4 | 6 => (text.includes(':') ? 6 : 4);

/** The CLI's and the API's check: a clear usage error naming the bad value. */
export function requireHost(text: string, what = 'address'): Host {
  const host = parseHost(text);
  if (host === undefined) {
    throw new KnockError('firewall.badAddress', `invalid ${what} '${text}'`, {
      exitCode: ExitCode.usage,
      hint: 'give one IPv4 address (192.0.2.7) or IPv6 address (2001:db8::7)',
    });
  }
  return host;
}

export function requireNetwork(text: string, what = 'address or CIDR'): Network {
  const network = parseNetwork(text);
  if (network === undefined) {
    throw new KnockError('firewall.badAddress', `invalid ${what} '${text}'`, {
      exitCode: ExitCode.usage,
      hint: 'give an address (192.0.2.7, 2001:db8::7) or a network (192.0.2.0/24, 2001:db8::/32)',
    });
  }
  return network;
}
