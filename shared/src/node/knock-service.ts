import { describeError, KnockError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { Profile } from '../profile.js';
import type { Knock } from '../sequence.js';
import type { takeOneTimeSequence } from './ots-file.js';
import type { verifyOpen } from './probe.js';
import type { resolveTargets } from './resolve.js';
import type { sendKnocks } from './sender.js';
import { clockHint, rotatingKnocks, type RotatingKnocks } from './rotating-knock.js';

/**
 * What a UI sees of a knock while it runs: the TUI turns these into its live status
 * line, the tray into its menu and notifications. Coarser than the sender's
 * KnockProgress (each knock once, whatever the number of addresses); nothing here
 * touches a socket.
 */
export type KnockServiceProgress =
  | { type: 'resolved'; addresses: string[] }
  | { type: 'sent'; knock: Knock; index: number; total: number }
  /** An address (often IPv6 without a route) could not be knocked; the others go on. */
  | { type: 'unreachable'; address: string; reason: string }
  | { type: 'verifying'; port: number; addresses: string[] }
  | { type: 'open'; address: string; port: number }
  | { type: 'closed'; port: number; reason: string };

export type KnockOutcome =
  /** The verified port answered. */
  | { status: 'open'; address: string; port: number }
  /** Knocked, but the port did not open before the timeout. */
  | { status: 'closed'; port: number; reason: string }
  /** Knocked; the profile names no port, so there was nothing to verify. */
  | { status: 'sent'; addresses: string[] }
  /** Nothing went out, or the check could not run (no such name, one-time file used up, no route…). */
  | { status: 'failed'; reason: string; exitCode: number };

/** "Knock this profile and verify": the one effect the TUI and the tray need. */
export interface KnockService {
  knock(profile: Profile, onProgress: (event: KnockServiceProgress) => void): Promise<KnockOutcome>;
}

/** The @knock/shared/node functions the real service is built on (injected, so tests can fake them). */
export interface KnockPorts {
  resolveTargets: typeof resolveTargets;
  sendKnocks: typeof sendKnocks;
  verifyOpen: typeof verifyOpen;
  takeOneTimeSequence: typeof takeOneTimeSequence;
  /** The clock rotating profiles derive their sequence from (default Date.now). */
  now?: () => number;
}

/** How long to wait for the port after the last knock when the profile does not say. */
export const DEFAULT_VERIFY_TIMEOUT_MS = 5000;

export const formatSeconds = (ms: number): string => {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
};

/**
 * Knocks every address the profile's host resolves to (for its family), then,
 * when the profile names a port, waits until that port answers on any of them.
 * Expected failures come back as an outcome, never as a thrown error.
 */
export function createKnockService(ports: KnockPorts): KnockService {
  return {
    async knock(profile, onProgress) {
      try {
        const addresses = await ports.resolveTargets(profile.host, profile.family);
        onProgress({ type: 'resolved', addresses });
        // A rotating profile sends one sequence per address family: its knocks are
        // numbered on from one family to the next (`offset` of `total`).
        const send = async (
          knocks: Knock[],
          to = addresses,
          offset = 0,
          total = knocks.length,
        ): Promise<void> => {
          let sent = 0;
          await ports.sendKnocks({
            addresses: to,
            knocks,
            delayMs: profile.delayMs,
            onEvent: (event) => {
              if (event.type === 'unreachable') {
                onProgress({
                  type: 'unreachable',
                  address: event.address,
                  reason: event.error.message,
                });
                return;
              }
              // With several addresses each gets the whole sequence: show each knock once.
              if (event.type !== 'knock' || event.index < sent) return;
              sent = event.index + 1;
              onProgress({
                type: 'sent',
                knock: event.knock,
                index: offset + event.index,
                total,
              });
            },
          });
        };
        let rotating: RotatingKnocks | undefined;
        if (profile.rotating) {
          rotating = await rotatingKnocks(
            profile.host,
            profile.rotating,
            addresses,
            (ports.now ?? Date.now)(),
          );
          const total = rotating.groups.reduce((n, g) => n + g.knocks.length, 0);
          let offset = 0;
          for (const group of rotating.groups) {
            await send(group.knocks, group.addresses, offset, total);
            offset += group.knocks.length;
          }
        } else if (profile.sequence && profile.sequence.length > 0) {
          await send(profile.sequence);
        } else if (profile.oneTimeSequences) {
          await ports.takeOneTimeSequence(profile.oneTimeSequences, send);
        } else {
          throw new KnockError('profile.noSequence', `profile ${profile.host} has no sequence`, {
            exitCode: ExitCode.config,
            hint: 'give it a sequence or a one-time-sequence file',
          });
        }
        if (profile.port === undefined) return { status: 'sent', addresses };
        const outcome = await verify(ports, profile, profile.port, addresses, onProgress);
        if (outcome.status === 'closed' && profile.rotating && rotating)
          outcome.reason = `${outcome.reason}; ${clockHint(profile.rotating, rotating)}`;
        return outcome;
      } catch (error) {
        const { text, exitCode } = describeError(error);
        return { status: 'failed', reason: text, exitCode };
      }
    },
  };
}

async function verify(
  ports: KnockPorts,
  profile: Profile,
  port: number,
  addresses: string[],
  onProgress: (event: KnockServiceProgress) => void,
): Promise<KnockOutcome> {
  const timeoutMs = profile.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;
  onProgress({ type: 'verifying', port, addresses });
  const result = await ports.verifyOpen({ addresses, port, timeoutMs });
  if (result.state === 'open') {
    onProgress({ type: 'open', address: result.address, port });
    return { status: 'open', address: result.address, port };
  }
  const why =
    result.state === 'closed'
      ? 'connection refused'
      : 'no answer: the knock may not have matched, or a firewall drops it';
  const reason = `port ${port} did not open within ${formatSeconds(timeoutMs)} (${why})`;
  onProgress({ type: 'closed', port, reason });
  return { status: 'closed', port, reason };
}
