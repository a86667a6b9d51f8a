import { Socket } from 'node:net';
import type { KnockProgress } from './sender.js';
import { networkError } from './sender.js';
import { KnockError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

/** The longest wait a Node timer can do: 2^31-1 ms, about 24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** `open`: it accepted a connection; `closed`: refused (RST); `timeout`: no answer (dropped). */
export type PortState = 'open' | 'closed' | 'timeout';

export type Attempt = { state: 'open'; socket: Socket } | { state: 'closed' | 'timeout' };

/**
 * One TCP connection attempt. On `open` the caller owns the connected socket (the
 * ProxyCommand relays over it). Network errors (no route) are thrown as KnockError.
 */
export function connectOnce(
  address: string,
  port: number,
  options: { timeoutMs: number; signal?: AbortSignal; allowHalfOpen?: boolean },
): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const socket = new Socket({ allowHalfOpen: options.allowHalfOpen ?? false });
    let settled = false;
    const finish = (result: Attempt | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (result instanceof Error || result.state !== 'open') socket.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onAbort = () => finish({ state: 'timeout' });
    const timer = setTimeout(() => finish({ state: 'timeout' }), options.timeoutMs);
    if (options.signal?.aborted) {
      finish({ state: 'timeout' });
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ state: 'open', socket }));
    // Stays attached: after `open` the owner adds its own handlers; until then an error
    // on the connected socket must not crash the process.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') finish({ state: 'closed' });
      else if (error.code === 'ETIMEDOUT') finish({ state: 'timeout' });
      else finish(networkError(error, address, port) ?? error);
    });
    socket.connect({ host: address, port });
  });
}

/** Is address:port open right now? One attempt of at most `timeoutMs`; the connection is closed again. */
export async function probePort(
  address: string,
  port: number,
  options: { timeoutMs: number },
): Promise<PortState> {
  const attempt = await connectOnce(address, port, options);
  if (attempt.state === 'open') attempt.socket.destroy();
  return attempt.state;
}

export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between attempts that were refused. Unanswered attempts are retried at once. */
  intervalMs?: number;
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Retries a connection until it is accepted or `timeoutMs` passes. An unanswered
 * attempt is abandoned after 300 ms, then 600, 1200, 2000…, so a port that a firewall
 * opens while we wait is noticed quickly without flooding it with SYNs.
 */
async function connectWhenOpen(
  address: string,
  port: number,
  options: WaitOptions & { allowHalfOpen?: boolean },
): Promise<Attempt> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 200;
  let attemptMs = 300;
  let last: Attempt = { state: 'timeout' };
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0 || options.signal?.aborted) return last;
    const attempt = await connectOnce(address, port, {
      timeoutMs: Math.min(remaining, attemptMs),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.allowHalfOpen ? { allowHalfOpen: true } : {}),
    });
    if (attempt.state === 'open') return attempt;
    last = attempt;
    if (attempt.state === 'timeout') attemptMs = Math.min(attemptMs * 2, 2000);
    else await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), options.signal);
  }
}

/** Waits until address:port accepts a connection, or `timeoutMs` passes; returns the last state seen. */
export async function waitForOpen(
  address: string,
  port: number,
  options: WaitOptions,
): Promise<PortState> {
  const attempt = await connectWhenOpen(address, port, options);
  if (attempt.state === 'open') attempt.socket.destroy();
  return attempt.state;
}

export interface VerifyOptions extends WaitOptions {
  addresses: readonly string[];
  port: number;
  onEvent?: (event: KnockProgress) => void;
  /** Keep the winning connection open and return it (the ProxyCommand relays over it). */
  keepSocket?: boolean;
  /**
   * One connection attempt per address (of at most timeoutMs), no retries: for a port
   * that nothing was knocked for, where waiting for it to open makes no sense.
   */
  once?: boolean;
  allowHalfOpen?: boolean;
}

export type VerifyResult =
  | { state: 'open'; address: string; elapsedMs: number; socket?: Socket }
  | { state: 'closed' | 'timeout' };

/**
 * After a knock: waits for `port` to open on any of `addresses` (all are tried at
 * once; the first to accept wins and the others are cancelled). Emits `verifying`,
 * then `open` or `closed`. An address with no route counts as closed; when every
 * address has no route, that error is thrown.
 */
export async function verifyOpen(options: VerifyOptions): Promise<VerifyResult> {
  const { addresses, port, timeoutMs } = options;
  // Node's timers cannot wait longer (they would fire after 1 ms, with a warning).
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMER_MS)
    throw new KnockError(
      'knock.verifyTimeout',
      `the time to wait for port ${port} must be from 0 to ${MAX_TIMER_MS} ms, got ${timeoutMs}`,
      { exitCode: ExitCode.usage, hint: 'use a shorter --timeout (or verify_timeout_ms)' },
    );
  const started = Date.now();
  options.onEvent?.({ type: 'verifying', addresses: [...addresses], port, timeoutMs });
  const stop = new AbortController();
  const abortOuter = () => stop.abort();
  options.signal?.addEventListener('abort', abortOuter, { once: true });
  const waitOptions = {
    timeoutMs,
    signal: stop.signal,
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
    ...(options.allowHalfOpen ? { allowHalfOpen: true } : {}),
  };
  let winner: { address: string; socket: Socket } | undefined;
  const results = await Promise.allSettled(
    addresses.map(async (address) => {
      const attempt = options.once
        ? await connectOnce(address, port, waitOptions)
        : await connectWhenOpen(address, port, waitOptions);
      if (attempt.state !== 'open') return attempt.state;
      if (winner === undefined) {
        winner = { address, socket: attempt.socket };
        stop.abort();
      } else attempt.socket.destroy();
      return 'open' as const;
    }),
  );
  options.signal?.removeEventListener('abort', abortOuter);
  if (winner !== undefined) {
    const elapsedMs = Date.now() - started;
    options.onEvent?.({ type: 'open', address: winner.address, port, elapsedMs });
    if (!options.keepSocket) winner.socket.destroy();
    return options.keepSocket
      ? { state: 'open', address: winner.address, elapsedMs, socket: winner.socket }
      : { state: 'open', address: winner.address, elapsedMs };
  }
  const states = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (states.length === 0) {
    const first = results[0];
    throw first?.status === 'rejected' ? first.reason : new Error('verifyOpen: no address');
  }
  // "closed" (something answered with a refusal) is the more informative of the two.
  const state = states.includes('closed') ? 'closed' : 'timeout';
  options.onEvent?.({ type: 'closed', addresses: [...addresses], port, state, timeoutMs });
  return { state };
}
