import {
  DEFAULT_VERIFY_TIMEOUT_MS,
  ExitCode,
  KnockError,
  errorText,
  formatEndpoint,
  formatSeconds,
  type Knock,
} from '@knock/shared/core';
import type { CliDeps, Profile } from '../deps.js';
import { closedError, lookupProfile } from '../knock-flow.js';
import { checkHost, parsePort } from '../args.js';
import { relay } from '../relay.js';
import { reporter } from '../report.js';
import { knockForSession, startSession, type SessionRequest } from '../session.js';
import { familyOf } from './knock.js';

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGTERM: 15,
};

export interface ProxyOptions {
  sequence?: Knock[];
  timeout?: number;
  config?: string;
  verbose?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  /** --keep-open; undefined: the profile's keep_open. */
  keepOpen?: boolean;
}

/**
 * `knock proxy HOST PORT`, an ssh ProxyCommand (`ProxyCommand knock proxy %h %p`):
 * knocks HOST's profile, waits for PORT, and relays stdin/stdout over the connection
 * that found it open. stdout carries nothing but the relayed bytes.
 */
export async function runProxy(
  deps: CliDeps,
  host: string,
  portText: string,
  options: ProxyOptions,
): Promise<void> {
  checkHost(host, 'knock proxy: HOST');
  const port = parsePort(portText, 'knock proxy');
  const verbose = options.verbose ? deps.stderr : undefined;
  const onEvent = reporter({ verbose, warn: verbose });
  let profile: Profile | undefined;
  let profileFile: string | undefined;
  if (options.sequence === undefined) {
    const found = await lookupProfile(deps, host, options.config, verbose);
    profile = found.profile;
    profileFile = found.file.path;
    if (profile === undefined)
      verbose?.write(`knock: no profile for "${host}": connecting without knocking\n`);
  }
  const family = familyOf(options) ?? profile?.family ?? 'any';
  const timeoutMs = options.timeout ?? profile?.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;
  const knocking = options.sequence !== undefined || profile !== undefined;
  let addresses: string[];
  let hint: string | undefined;
  const request: SessionRequest = {
    host,
    profile,
    profileFile,
    knocks: options.sequence,
    family,
    flag: options.keepOpen,
    verbose,
  };
  if (knocking) {
    const outcome = await knockForSession(deps, request, onEvent);
    addresses = outcome.addresses;
    hint = outcome.hint;
  } else addresses = await deps.resolveTargets(host, family);

  // Nothing knocked: nothing will open, so one attempt (a refused port fails at once).
  const result = await deps.verifyOpen({
    addresses,
    port,
    timeoutMs,
    intervalMs: 200,
    onEvent,
    keepSocket: true,
    allowHalfOpen: true,
    ...(knocking ? {} : { once: true }),
  });
  if (result.state !== 'open' || result.socket === undefined)
    throw result.state === 'open'
      ? new Error('verifyOpen returned no socket')
      : knocking
        ? closedError(host, port, addresses, result, timeoutMs, hint)
        : new KnockError(
            'knock.proxy.connect',
            `cannot connect to ${addresses.length === 1 ? formatEndpoint(addresses[0] ?? host, port) : `port ${port} of ${host} (${addresses.join(', ')})`}: ${result.state === 'closed' ? 'connection refused' : `no answer within ${formatSeconds(timeoutMs)}`}`,
            {
              exitCode: ExitCode.network,
              hint: `there is no profile for "${host}", so nothing was knocked; add one (knock list shows the file) or check the host and port`,
            },
          );
  const session = knocking ? startSession(deps, request) : undefined;
  // ssh ends its ProxyCommand with SIGHUP when it exits: with a session kept, that ends the
  // relay (instead of killing us) so the close sequence still goes out.
  const socket = result.socket;
  let signalled: NodeJS.Signals | undefined;
  const release = session
    ? deps.onSignals?.(['SIGHUP', 'SIGTERM', 'SIGINT'], (signal) => {
        signalled ??= signal;
        socket.destroy();
      })
    : undefined;
  const { input, output } = deps.relayStreams();
  try {
    await relay(socket, input, output);
  } catch (error) {
    if (signalled === undefined)
      throw new KnockError(
        'knock.proxy.relay',
        `connection to ${formatEndpoint(result.address, port)} failed: ${errorText(error)}`,
        { exitCode: ExitCode.network, cause: error },
      );
  } finally {
    await session?.stop(signalled ? 'signal' : 'ended');
    release?.();
  }
  if (signalled !== undefined) {
    verbose?.write(
      `knock: ${signalled}: connection to ${formatEndpoint(result.address, port)} closed\n`,
    );
    deps.setExitCode(128 + (SIGNAL_NUMBERS[signalled] ?? 0));
    return;
  }
  verbose?.write(`knock: connection to ${formatEndpoint(result.address, port)} closed\n`);
}
