// Argument checks every backend makes before touching the firewall.
import { ExitCode, KnockError } from '@knock/shared';
import type { PortSpec } from './types.js';

export function checkSeconds(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 365 * 24 * 3600) {
    throw new KnockError('firewall.badSeconds', `invalid duration ${String(seconds)} s`, {
      exitCode: ExitCode.usage,
      hint: 'give whole seconds from 0 (until flushed) to 31536000 (a year)',
    });
  }
}

export function checkPorts(ports: readonly PortSpec[]): void {
  for (const p of ports) {
    if (
      !Number.isInteger(p.port) ||
      p.port < 1 ||
      p.port > 65535 ||
      !['tcp', 'udp'].includes(p.protocol)
    ) {
      throw new KnockError(
        'firewall.badPort',
        `invalid port ${String(p.port)}/${String(p.protocol)}`,
        {
          exitCode: ExitCode.usage,
          hint: 'ports are 1-65535 over tcp or udp, e.g. 22/tcp',
        },
      );
    }
  }
}

/** `22`, `22/tcp`, `53/udp` (the Open_Ports and --port syntax); tcp by default. */
export function parsePortSpec(text: string): PortSpec | undefined {
  const m = /^[ \t]*(\d{1,5})[ \t]*(?:[/:][ \t]*(tcp|udp)[ \t]*)?$/i.exec(text);
  if (!m) return undefined;
  const port = Number(m[1]);
  if (port < 1 || port > 65535) return undefined;
  return { port, protocol: (m[2]?.toLowerCase() ?? 'tcp') as PortSpec['protocol'] };
}
