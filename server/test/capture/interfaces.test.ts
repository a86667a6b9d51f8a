import { execFileSync } from 'node:child_process';
import type { NetworkInterfaceInfo } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  defaultInterface,
  localAddresses,
  parseInterfaces,
  parseIpv6RouteTable,
  parseRouteTable,
  systemInterfaceTable,
  watchAddresses,
} from '../../src/capture/interfaces.js';

const ROUTE_HEADER =
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';
const route = (iface: string, dest: string, flags: string, metric: number, mask: string) =>
  `${iface}\t${dest}\t010200C0\t${flags}\t0\t0\t${metric}\t${mask}\t0\t0\t0`;
const v6route = (dest: string, prefix: string, metric: string, flags: string, iface: string) =>
  `${dest} ${prefix} ${'0'.repeat(32)} 00 ${'0'.repeat(32)} ${metric} 00000001 00000000 ${flags} ${iface}`;
const ZERO = '0'.repeat(32);

describe('defaultInterface', () => {
  it('takes the IPv4 default route with the lowest metric', () => {
    const table = [
      ROUTE_HEADER,
      route('wlan0', '00000000', '0003', 600, '00000000'),
      route('eth1', '00000000', '0003', 100, '00000000'),
      route('eth2', '000200C0', '0001', 0, '00FFFFFF'),
    ].join('\n');
    expect(parseRouteTable(table)).toBe('eth1');
    expect(defaultInterface((path) => (path === '/proc/net/route' ? table : ''))).toBe('eth1');
  });

  it('ignores routes that are down or reject', () => {
    const table = [
      ROUTE_HEADER,
      route('eth0', '00000000', '0002', 0, '00000000'),
      route('eth1', '00000000', '0201', 0, '00000000'),
    ].join('\n');
    expect(parseRouteTable(table)).toBeUndefined();
  });

  it('falls back to the IPv6 default route, skipping the unreachable one on lo', () => {
    const v6 = [
      v6route('fd00' + '0'.repeat(28), '40', '00000100', '00000001', 'ens3'),
      v6route(ZERO, '00', 'ffffffff', '00200200', 'lo'),
      v6route(ZERO, '00', '00000400', '00000003', 'ens3'),
    ].join('\n');
    expect(parseIpv6RouteTable(v6)).toBe('ens3');
    const read = (path: string) => (path === '/proc/net/route' ? ROUTE_HEADER + '\n' : v6);
    expect(defaultInterface(read)).toBe('ens3');
  });

  it('is undefined without a default route or without /proc', () => {
    expect(defaultInterface(() => ROUTE_HEADER)).toBeUndefined();
    expect(
      defaultInterface(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });

  it('agrees with `ip route` on this machine', () => {
    let expected: string | undefined;
    try {
      const out = execFileSync('ip', ['-4', 'route', 'show', 'default'], { encoding: 'utf8' });
      expected = /\bdev (\S+)/.exec(out)?.[1];
      if (expected === undefined) {
        const out6 = execFileSync('ip', ['-6', 'route', 'show', 'default'], { encoding: 'utf8' });
        expected = /\bdev (\S+)/.exec(out6)?.[1];
      }
    } catch {
      return; // no iproute2: nothing to compare with
    }
    expect(defaultInterface()).toBe(expected);
  });
});

describe('parseInterfaces', () => {
  it('splits a comma-separated list', () => {
    expect(parseInterfaces('eth0, eth1,,eth0 ,vlan100')).toEqual(['eth0', 'eth1', 'vlan100']);
    expect(parseInterfaces('')).toEqual([]);
  });
});

const info = (address: string, family: 'IPv4' | 'IPv6'): NetworkInterfaceInfo =>
  ({
    address,
    family,
    netmask: family === 'IPv4' ? '255.255.255.0' : 'ffff:ffff:ffff:ffff::',
    mac: '02:00:00:00:00:01',
    internal: false,
    cidr: null,
    ...(family === 'IPv6' ? { scopeid: 0 } : {}),
  }) as NetworkInterfaceInfo;

const table = {
  lo: [info('127.0.0.1', 'IPv4'), info('::1', 'IPv6')],
  eth0: [info('192.0.2.2', 'IPv4'), info('2001:db8::2', 'IPv6'), info('fe80::2%eth0', 'IPv6')],
  eth1: [info('198.51.100.2', 'IPv4'), info('192.0.2.2', 'IPv4')],
};

describe('localAddresses', () => {
  it('lists the named interfaces’ addresses, without %scope, sorted, once each', () => {
    expect(localAddresses(['eth0', 'eth1'], { table: () => table })).toEqual({
      v4: ['192.0.2.2', '198.51.100.2'],
      v6: ['2001:db8::2', 'fe80::2'],
    });
  });

  it('lists every interface for `any`, and no IPv6 with ipv4Only', () => {
    expect(localAddresses(['any'], { table: () => table })).toEqual({
      v4: ['127.0.0.1', '192.0.2.2', '198.51.100.2'],
      v6: ['2001:db8::2', '::1', 'fe80::2'],
    });
    expect(localAddresses(['eth0'], { table: () => table, ipv4Only: true })).toEqual({
      v4: ['192.0.2.2'],
      v6: [],
    });
  });

  it('is empty for an interface without addresses, and reads the real table by default', () => {
    expect(localAddresses(['nope0'], { table: () => table })).toEqual({ v4: [], v6: [] });
    expect(localAddresses(['lo']).v4).toContain('127.0.0.1');
  });
});

describe('watchAddresses', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('calls back only when the set changes, and stops when told', () => {
    vi.useFakeTimers();
    let current: typeof table = table;
    const seen: unknown[] = [];
    const stop = watchAddresses(['eth0'], (a) => seen.push(a), 1000, { table: () => current });
    vi.advanceTimersByTime(3000);
    expect(seen).toEqual([]);
    current = { ...table, eth0: [info('192.0.2.77', 'IPv4')] }; // DHCP gave a new lease
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([{ v4: ['192.0.2.77'], v6: [] }]);
    current = { ...table, eth1: [] }; // another interface: no change for eth0 watchers
    current.eth0 = [info('192.0.2.77', 'IPv4')];
    vi.advanceTimersByTime(5000);
    expect(seen).toHaveLength(1);
    stop();
    current = table;
    vi.advanceTimersByTime(5000);
    expect(seen).toHaveLength(1);
  });
});

describe('systemInterfaceTable', () => {
  const ipJson = JSON.stringify([
    { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1' }] },
    {
      ifname: 'veth0',
      addr_info: [
        { family: 'inet', local: '192.0.2.2' },
        { family: 'inet6', local: '2001:db8::2' },
      ],
    },
  ]);

  it('fills in an interface that libuv hides because it is not running yet', () => {
    let ipCalls = 0;
    const table = systemInterfaceTable({
      list: () => ({ lo: [info('127.0.0.1', 'IPv4')] }),
      names: () => ['lo', 'veth0'],
      ipAddrJson: () => (ipCalls++, ipJson),
    });
    expect(table.veth0).toEqual([
      { address: '192.0.2.2', family: 'IPv4' },
      { address: '2001:db8::2', family: 'IPv6' },
    ]);
    expect(table.lo).toEqual([info('127.0.0.1', 'IPv4')]);
    expect(ipCalls).toBe(1);
  });

  it('does not run ip when libuv already lists every interface, nor fail without it', () => {
    const list = () => ({ lo: [info('127.0.0.1', 'IPv4')] });
    expect(
      systemInterfaceTable({
        list,
        names: () => ['lo'],
        ipAddrJson: () => {
          throw new Error('must not run');
        },
      }),
    ).toEqual(list());
    expect(
      systemInterfaceTable({
        list,
        names: () => ['lo', 'eth9'],
        ipAddrJson: () => {
          throw new Error('ENOENT');
        },
      }),
    ).toEqual(list());
  });
});
