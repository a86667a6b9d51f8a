import { createSocket } from 'node:dgram';
import { isIP, Socket } from 'node:net';
import { ExitCode } from '../exit-codes.js';
import { KnockError } from '../errors.js';
import type { Knock } from '../sequence.js';
import { formatEndpoint } from './resolve.js';

/** What knockd's client puts in a UDP knock: one zero byte. */
export const UDP_KNOCK_PAYLOAD: Uint8Array = Uint8Array.of(0);

/**
 * Progress of a knock run, for the CLI (-v lines), the TUI and the tray. `knock` is
 * emitted once per packet that left; `verifying`/`open`/`closed` come from
 * `verifyOpen` (probe.ts) after the knocks.
 */
export type KnockProgress =
  | {
      type: 'knock';
      address: string;
      knock: Knock;
      /** 0-based position of this knock in the sequence. */
      index: number;
      count: number;
    }
  | {
      /** A network error for this address: its remaining knocks were skipped (the others go on). */
      type: 'unreachable';
      address: string;
      error: KnockError;
    }
  | { type: 'verifying'; addresses: string[]; port: number; timeoutMs: number }
  | { type: 'open'; address: string; port: number; elapsedMs: number }
  | {
      type: 'closed';
      addresses: string[];
      port: number;
      /** `closed`: refused (RST); `timeout`: no answer at all (dropped). */
      state: 'closed' | 'timeout';
      timeoutMs: number;
    };

/** The longest pause between knocks the sender accepts: an hour. */
export const MAX_KNOCK_DELAY_MS = 3_600_000;

/** The sockets the sender uses; injected in tests. Failures are thrown as errno errors. */
export interface Transport {
  /** Sends exactly one TCP SYN to address:port. Resolves once it has left; it is never retransmitted. */
  tcp(address: string, port: number): Promise<void>;
  /** Sends one UDP datagram carrying `payload`. */
  udp(address: string, port: number, payload: Uint8Array): Promise<void>;
}

export interface SendOptions {
  /** Every address gets the whole sequence, in order: all knocks to the first address, then to the next. */
  addresses: readonly string[];
  knocks: readonly Knock[];
  /** Pause after every knock, the last included (knockd's `-d`). */
  delayMs?: number;
  onEvent?: (event: KnockProgress) => void;
  transport?: Transport;
  /** Injected for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stops between knocks (the TUI's cancel); rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** errno codes that mean "this packet could not be sent to that address". */
const NETWORK_CODES: Readonly<Record<string, string>> = {
  ENETUNREACH: 'network unreachable (no route)',
  EHOSTUNREACH: 'no route to host',
  ENETDOWN: 'network is down',
  EADDRNOTAVAIL: 'address not available on this machine',
  EAFNOSUPPORT: 'address family not supported on this machine',
  EPERM: 'refused by the local firewall',
  EACCES: 'permission denied (local firewall or broadcast address)',
};

/** Maps a socket error to a KnockError (ExitCode.network), or undefined when it is not a network error. */
export function networkError(
  error: unknown,
  address: string,
  port: number,
): KnockError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why = code === undefined ? undefined : NETWORK_CODES[code];
  if (why === undefined) return undefined;
  return new KnockError(
    'knock.network',
    `cannot send to ${formatEndpoint(address, port)}: ${why} (${code})`,
    {
      exitCode: ExitCode.network,
      hint: 'check your network connection, or choose another address family (-4 / -6)',
      cause: error,
    },
  );
}

const abortableSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Sends `knocks` to every address in `addresses`, in order, one packet per knock.
 *
 * With several addresses (family `any`), each address gets the whole sequence before
 * the next one starts, so each sees its sequence contiguous and in order. An address
 * that fails with a network error (say, IPv6 without an IPv6 route) is reported with an
 * `unreachable` event and skipped; the run fails only when every address failed.
 */
export async function sendKnocks(options: SendOptions): Promise<void> {
  const transport = options.transport ?? nodeTransport();
  const sleep = options.sleep ?? abortableSleep;
  const delayMs = options.delayMs ?? 0;
  const { knocks, addresses, signal } = options;
  if (addresses.length === 0) throw new Error('sendKnocks: no address to knock');
  // Before the first packet: a delay Node's timers cannot wait (above 2^31-1 ms they fire
  // after 1 ms, with a TimeoutOverflowWarning), or a port that cannot be sent to.
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_KNOCK_DELAY_MS)
    throw new KnockError(
      'knock.delay',
      `the delay between knocks must be a whole number of milliseconds from 0 to ${MAX_KNOCK_DELAY_MS}, got ${delayMs}`,
      { exitCode: ExitCode.usage, hint: 'use a shorter delay (-d, or delay_ms in the profile)' },
    );
  const bad = knocks.find((k) => !Number.isInteger(k.port) || k.port < 1 || k.port > 65535);
  if (bad)
    throw new KnockError('knock.port', `cannot knock port ${bad.port}: ports go from 1 to 65535`, {
      exitCode: ExitCode.usage,
    });
  let firstFailure: KnockError | undefined;
  let reached = 0;
  for (const address of addresses) {
    let port = 0;
    try {
      for (const [index, knock] of knocks.entries()) {
        signal?.throwIfAborted();
        port = knock.port;
        if (knock.protocol === 'tcp') await transport.tcp(address, knock.port);
        else await transport.udp(address, knock.port, UDP_KNOCK_PAYLOAD);
        options.onEvent?.({ type: 'knock', address, knock, index, count: knocks.length });
        if (delayMs > 0) await sleep(delayMs, signal);
      }
      reached += 1;
    } catch (error) {
      const failure = error instanceof KnockError ? error : networkError(error, address, port);
      if (failure === undefined || failure.exitCode !== ExitCode.network) throw error;
      if (addresses.length === 1) throw failure;
      firstFailure ??= failure;
      options.onEvent?.({ type: 'unreachable', address, error: failure });
    }
  }
  if (reached === 0 && firstFailure !== undefined) throw firstFailure;
}

export interface NodeTransportOptions {
  /**
   * How long a TCP knock's socket may live after its SYN left, at most. Linux
   * retransmits an unanswered SYN after 1 s (TCP_TIMEOUT_INIT), so this must stay
   * well below that; the socket is also unref'd, so a process that is done exits at
   * once and the kernel drops the socket without sending anything more.
   */
  holdMs?: number;
}

/** The real transport: node:net for TCP (one SYN, then close), node:dgram for UDP. */
export function nodeTransport(options: NodeTransportOptions = {}): Transport {
  const holdMs = options.holdMs ?? 100;
  return {
    tcp: (address, port) => tcpKnock(address, port, holdMs),
    udp: (address, port, payload) =>
      new Promise((resolve, reject) => {
        const socket = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
        socket.once('error', (error) => {
          socket.close();
          reject(error);
        });
        socket.send(payload, port, address, (error) => {
          socket.close();
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}

/** Errors that prove the SYN went out (the peer answered it). */
const ANSWERED = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']);

function tcpKnock(address: string, port: number, holdMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => socket.destroy(), holdMs);
    timer.unref();
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      settle(ANSWERED.has(error.code ?? '') ? undefined : error);
    });
    // An open port completed the handshake: nothing more to say.
    socket.on('connect', () => {
      clearTimeout(timer);
      socket.destroy();
    });
    // Node emits 'connectionAttempt' right before connect(2), which on a non-blocking
    // socket hands the SYN to the kernel before it returns. After one setImmediate,
    // connect(2) has returned and any synchronous failure (ENETUNREACH) has been
    // emitted as 'error', which settled first.
    socket.once('connectionAttempt', () => {
      setImmediate(() => {
        socket.unref();
        settle();
      });
    });
    socket.connect({ host: address, port });
  });
}
