import fc from 'fast-check';
import {
  canonicalIp,
  TCP_FLAGS,
  type Door,
  type KnockdConfig,
  type Options,
  type PortSpec,
  type TcpFlagRule,
} from '@knock/shared';

/** Config values knockd can carry: no line break or NUL, no blank at either end (trim). */
const value = (minLength = 1) =>
  fc
    .string({ minLength, maxLength: 40 })
    .filter((s) => !/[\n\0]/.test(s) && !/^[ \t\v\f\r]/.test(s) && !/[ \t\v\f\r]$/.test(s));
const path = fc
  .array(fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/), { minLength: 1, maxLength: 4 })
  .map((parts) => `/${parts.join('/')}`);
const seconds = fc.integer({ min: 0, max: 2_147_483_647 });
const knock = fc.record({
  port: fc.integer({ min: 1, max: 65535 }),
  protocol: fc.constantFrom('tcp' as const, 'udp' as const),
});
const doorName = fc
  .string({ minLength: 1, maxLength: 30 })
  .filter((s) => !/[\n\0]/.test(s) && s !== 'options');
const tcpFlags: fc.Arbitrary<TcpFlagRule> = fc.record(
  Object.fromEntries(TCP_FLAGS.map((f) => [f, fc.boolean()])) as Record<
    (typeof TCP_FLAGS)[number],
    fc.Arbitrary<boolean>
  >,
  { requiredKeys: [] },
);
const target = fc.oneof(
  fc.ipV4(),
  fc.ipV6().map((ip) => canonicalIp(ip)?.text ?? '::1'),
);
const openPorts: fc.Arbitrary<PortSpec[]> = fc.uniqueArray(knock, {
  minLength: 1,
  maxLength: 4,
  selector: (k) => `${k.port}/${k.protocol}`,
});

const door: fc.Arbitrary<Door> = fc
  .record(
    {
      name: doorName,
      sequence: fc.array(knock, { minLength: 1, maxLength: 32 }),
      oneTimeSequences: path,
      useOts: fc.boolean(),
      seqTimeout: seconds,
      tcpFlags,
      startCommand: value(0),
      startCommand6: value(0),
      stopCommand: value(0),
      stopCommand6: value(0),
      cmdTimeout: seconds,
      target,
      openPorts,
      openTimeout: fc.integer({ min: 1, max: 86400 }),
      ban: fc.integer({ min: 0, max: 86400 }),
    },
    {
      requiredKeys: [
        'name',
        'sequence',
        'oneTimeSequences',
        'useOts',
        'seqTimeout',
        'tcpFlags',
        'cmdTimeout',
      ],
    },
  )
  .map(({ useOts, oneTimeSequences, sequence, ...rest }) => {
    const d: Door = { ...rest, line: 0, sequence: useOts ? [] : sequence };
    if (useOts) d.oneTimeSequences = oneTimeSequences;
    // Open_Timeout defaults to 300 once Open_Ports is set: the parsed form always has it.
    if (d.openPorts && d.openTimeout === undefined) d.openTimeout = 300;
    return d;
  });

const options: fc.Arbitrary<Options> = fc.record(
  {
    useSyslog: fc.boolean(),
    logFile: path,
    pidFile: path,
    interface: fc.constantFrom('eth0', 'lo', 'wlan0', 'eth0,wlan0', 'enp3s0'),
    firewall: fc.constantFrom('nftables' as const, 'iptables' as const, 'none' as const),
    trustedFile: path,
  },
  { requiredKeys: ['useSyslog'] },
);

/** Any config that parseConfig could have produced without an error. */
export const arbitraryConfig = (): fc.Arbitrary<KnockdConfig> =>
  fc.record({ options, doors: fc.array(door, { maxLength: 5 }) });

/** Door `line`s depend on the layout, not the meaning: compare configs without them. */
export const withoutLines = (config: KnockdConfig) => ({
  options: config.options,
  doors: config.doors.map(({ line: _line, ...rest }) => rest),
});
