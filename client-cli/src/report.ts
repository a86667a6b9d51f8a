import type { KnockProgress } from '@knock/shared/node';
import { formatEndpoint, formatSeconds } from '@knock/shared/core';
import type { Out } from './deps.js';

/**
 * Turns sender/probe events into lines. `hitting tcp 192.0.2.2:1228` is knockd's -v
 * line (IPv6 addresses are bracketed here, knockd prints them bare). Knock and verify
 * lines go to `verbose` (undefined: not printed); skipped addresses are warnings and
 * go to `warn`.
 */
export function reporter(options: {
  verbose: Out | undefined;
  warn: Out | undefined;
}): (event: KnockProgress) => void {
  const { verbose, warn } = options;
  return (event) => {
    switch (event.type) {
      case 'knock':
        verbose?.write(
          `hitting ${event.knock.protocol} ${formatEndpoint(event.address, event.knock.port)}\n`,
        );
        break;
      case 'unreachable':
        warn?.write(`knock: warning: skipped ${event.address}: ${event.error.message}\n`);
        break;
      case 'verifying':
        verbose?.write(
          `waiting up to ${formatSeconds(event.timeoutMs)} for port ${event.port} on ${event.addresses.join(', ')}\n`,
        );
        break;
      case 'open':
        verbose?.write(
          `port ${event.port} is open on ${event.address} (after ${formatSeconds(event.elapsedMs)})\n`,
        );
        break;
      case 'closed':
        verbose?.write(
          `port ${event.port} is still ${event.state === 'closed' ? 'closed (connection refused)' : 'closed (no answer)'} after ${formatSeconds(event.timeoutMs)}\n`,
        );
        break;
    }
  };
}
