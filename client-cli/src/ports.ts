import { ExitCode, KnockError, type Knock, type Protocol } from '@knock/shared/core';
import { lookupService, type ServiceTable } from './services.js';

/** A knock as typed on the command line, before service names are looked up. */
export interface PortSpec {
  /** As typed, for messages: `1228`, `ssh:udp`. */
  text: string;
  port: number | string;
  protocol: Protocol;
}

const usage = (code: string, message: string, hint: string) =>
  new KnockError(code, message, { exitCode: ExitCode.usage, hint });

/**
 * Parses knockd's `PORT[:PROTO]` argument. As in knockd, `:udp` makes a UDP knock and
 * `-u` makes every knock UDP (even `:tcp`). Where knockd silently misreads, this
 * refuses before anything is sent: `:UDP` is accepted as UDP (knockd sends TCP), an
 * unknown protocol or empty suffix is an error (knockd sends TCP), and so is a port
 * outside 1–65535 (glibc truncates 70000 to 4464).
 */
export function parsePortSpec(text: string, allUdp: boolean): PortSpec {
  const colon = text.indexOf(':');
  const portText = colon === -1 ? text : text.slice(0, colon);
  const protoText = colon === -1 ? undefined : text.slice(colon + 1);
  let protocol: Protocol = 'tcp';
  if (protoText !== undefined) {
    const p = protoText.toLowerCase();
    if (p !== 'tcp' && p !== 'udp')
      throw usage(
        'knock.usage.protocol',
        `unknown protocol "${protoText}" in "${text}"`,
        'write PORT, PORT:tcp or PORT:udp',
      );
    protocol = p;
  }
  if (allUdp) protocol = 'udp';
  if (/^\d+$/.test(portText)) {
    const port = Number(portText);
    if (port < 1 || port > 65535)
      throw usage(
        'knock.usage.portRange',
        `port ${portText} is out of range (in "${text}")`,
        'ports go from 1 to 65535',
      );
    return { text, port, protocol };
  }
  if (/^[A-Za-z][\w.+-]*$/.test(portText)) return { text, port: portText, protocol };
  throw usage(
    'knock.usage.port',
    `"${portText}" is not a port (in "${text}")`,
    'write a port number from 1 to 65535 or a service name such as ssh',
  );
}

/** Replaces service names by their ports; an unknown name is an error before anything is sent. */
export function resolvePortSpecs(
  specs: readonly PortSpec[],
  services: ServiceTable | undefined,
  servicesFile: string,
): Knock[] {
  return specs.map((spec) => {
    if (typeof spec.port === 'number') return { port: spec.port, protocol: spec.protocol };
    const port = services && lookupService(services, spec.port, spec.protocol);
    if (port === undefined)
      throw usage(
        'knock.usage.service',
        `unknown service "${spec.port}" (not in ${servicesFile})`,
        'write the port number instead',
      );
    return { port, protocol: spec.protocol };
  });
}

/** The longest -d: an hour between knocks is already far beyond any knock server's timeout. */
export const MAX_DELAY_MS = 3_600_000;
/** The longest --timeout, in seconds: a day (Node's timers stop at 24.8 days). */
export const MAX_TIMEOUT_S = 86_400;

/** Whole milliseconds from 0 to MAX_DELAY_MS for `flag` (-d). */
export function parseDelay(text: string, flag = '-d'): number {
  const trimmed = text.trim();
  const hint = `give ${flag} milliseconds from 0 to ${MAX_DELAY_MS}, e.g. ${flag} 200`;
  if (/^-\d+$/.test(trimmed))
    throw usage('knock.usage.delay', `${flag}: the delay cannot be negative (got "${text}")`, hint);
  if (!/^\d+$/.test(trimmed))
    throw usage('knock.usage.delay', `${flag} wants milliseconds, got "${text}"`, hint);
  if (Number(trimmed) > MAX_DELAY_MS)
    throw usage(
      'knock.usage.delay',
      `${flag} ${trimmed} is too long: at most ${MAX_DELAY_MS} ms (an hour)`,
      hint,
    );
  return Number(trimmed);
}

/** Seconds (decimals allowed, 0.001 to MAX_TIMEOUT_S) for --timeout, as milliseconds. */
export function parseSeconds(text: string, flag: string): number {
  const trimmed = text.trim();
  const ms = Math.round(Number(trimmed) * 1000);
  if (!/^\d+(\.\d+)?$/.test(trimmed) || ms < 1 || ms > MAX_TIMEOUT_S * 1000)
    throw usage(
      'knock.usage.timeout',
      `${flag} wants a number of seconds from 0.001 to ${MAX_TIMEOUT_S}, got "${text}"`,
      `e.g. ${flag} 5`,
    );
  return ms;
}

/**
 * A host as typed on the command line: refused before anything else when it cannot be a
 * name or an address (empty, blanks or control characters), as a usage error.
 */
export function checkHost(host: string, what = 'HOST'): string {
  // eslint-disable-next-line no-control-regex
  if (host === '' || /[\s\u0000-\u001f\u007f]/u.test(host))
    throw usage(
      'knock.usage.host',
      host === ''
        ? `${what} is empty`
        : `${what} ${JSON.stringify(host)} is not a host name or address (it has a blank or control character)`,
      'give a host name (ssh.maths.fr) or an address (192.0.2.2, 2001:db8::2)',
    );
  return host;
}

/** A numeric port for proxy. */
export function parsePort(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535)
    throw usage(
      'knock.usage.port',
      `${what}: "${text}" is not a port from 1 to 65535`,
      'write a port number, e.g. 22',
    );
  return Number(text);
}
