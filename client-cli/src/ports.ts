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

/** Whole positive milliseconds for -d. */
export function parseDelay(text: string): number {
  if (/^-\d+$/.test(text.trim()))
    throw usage(
      'knock.usage.delay',
      'delay cannot be negative',
      'give -d milliseconds, e.g. -d 200',
    );
  if (!/^\d+$/.test(text.trim()))
    throw usage(
      'knock.usage.delay',
      `-d wants milliseconds, got "${text}"`,
      'give -d milliseconds, e.g. -d 200',
    );
  return Number(text);
}

/** Seconds (decimals allowed) for --timeout, as milliseconds. */
export function parseSeconds(text: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || Number(text) <= 0)
    throw usage(
      'knock.usage.timeout',
      `${flag} wants a number of seconds above 0, got "${text}"`,
      `e.g. ${flag} 5`,
    );
  return Math.round(Number(text) * 1000);
}

/** A numeric port for --verify / proxy. */
export function parsePort(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535)
    throw usage(
      'knock.usage.port',
      `${what}: "${text}" is not a port from 1 to 65535`,
      'write a port number, e.g. 22',
    );
  return Number(text);
}
