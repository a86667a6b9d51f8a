import { ExitCode, KnockError, type Knock } from '@knock/shared/core';
import { formatEndpoint } from '../endpoint.js';
import type { CliDeps, Profile } from '../deps.js';
import { DEFAULT_VERIFY_TIMEOUT_MS, closedError, knock, lookupProfile } from '../knock-flow.js';
import { checkHost, parsePort } from '../ports.js';
import { seconds } from '../report.js';
import { relay } from '../relay.js';
import { reporter } from '../report.js';
import { familyOf } from './knock.js';

export interface ProxyOptions {
  sequence?: Knock[];
  timeout?: number;
  config?: string;
  verbose?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
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
  if (knocking) {
    const outcome = await knock(deps, {
      host,
      ...(options.sequence ? { knocks: options.sequence } : {}),
      ...(profile ? { profile } : {}),
      ...(profileFile !== undefined ? { profileFile } : {}),
      lockNotice: deps.stderr,
      family,
      onEvent,
    });
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
            `cannot connect to ${addresses.length === 1 ? formatEndpoint(addresses[0] ?? host, port) : `port ${port} of ${host} (${addresses.join(', ')})`}: ${result.state === 'closed' ? 'connection refused' : `no answer within ${seconds(timeoutMs)}`}`,
            {
              exitCode: ExitCode.network,
              hint: `there is no profile for "${host}", so nothing was knocked; add one (knock list shows the file) or check the host and port`,
            },
          );
  const { input, output } = deps.relayStreams();
  try {
    await relay(result.socket, input, output);
  } catch (error) {
    throw new KnockError(
      'knock.proxy.relay',
      `connection to ${formatEndpoint(result.address, port)} failed: ${(error as Error).message}`,
      { exitCode: ExitCode.network, cause: error },
    );
  }
  verbose?.write(`knock: connection to ${formatEndpoint(result.address, port)} closed\n`);
}
