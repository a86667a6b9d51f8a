// The `[options]` section: one call per directive, with its canonical name.
import { cTrim, leadingSpace } from '../c-text.js';
import { applyClusterOption, isClusterDirective } from './cluster-options.js';
import type { Directive, ParseContext } from './context.js';
import type { FirewallKind } from './types.js';
import { nonEmpty } from './values.js';

/** Applies one `[options]` directive (its canonical name) to `ctx.options`. */
export function applyOption(ctx: ParseContext, d: Directive): void {
  const { name, value, line, column } = d;
  switch (name) {
    case 'LogFile':
      if (value === '') {
        ctx.warning(
          'config.value.empty',
          line,
          column,
          'LogFile has no value: nothing is logged to a file',
          'remove the line, or write LogFile = /var/log/knockd.log',
        );
        delete ctx.options.logFile;
      } else ctx.options.logFile = value;
      return;
    case 'PidFile':
      if (nonEmpty(ctx, d, '/var/run/knockd.pid')) ctx.options.pidFile = value;
      return;
    case 'Interface':
      interfaces(ctx, d);
      return;
    case 'Firewall': {
      const kind = value.toLowerCase();
      if (kind === 'nftables' || kind === 'iptables' || kind === 'none') {
        ctx.options.firewall = kind as FirewallKind;
      } else {
        ctx.error(
          'config.firewall.invalid',
          line,
          column,
          value === '' ? 'Firewall has no value' : `unknown firewall "${value}"`,
          'write Firewall = nftables, iptables or none',
        );
      }
      return;
    }
    case 'Trusted_File':
      if (nonEmpty(ctx, d, '/etc/knockd.trusted')) ctx.options.trustedFile = value;
      return;
    case 'Control_Socket':
      if (!nonEmpty(ctx, d, '/run/knock-server.sock (or none)')) return;
      if (value.toLowerCase() === 'none') ctx.options.controlSocket = 'none';
      else if (value.startsWith('/')) ctx.options.controlSocket = value;
      else
        ctx.error(
          'config.controlSocket.invalid',
          line,
          column,
          `Control_Socket = ${value} is not an absolute path`,
          'write Control_Socket = /run/knock-server.sock, or Control_Socket = none',
        );
      return;
    case 'Metrics_Listen': {
      if (!nonEmpty(ctx, d, '127.0.0.1:9742')) return;
      const problem = metricsListenProblem(value);
      if (problem === undefined) ctx.options.metricsListen = value;
      else
        ctx.error(
          'config.metricsListen.invalid',
          line,
          column,
          `Metrics_Listen = ${value}: ${problem}`,
          'write Metrics_Listen = 127.0.0.1:9742, [::1]:9742 or /run/knock-server-metrics.sock',
        );
      return;
    }
    default:
      if (isClusterDirective(name))
        applyClusterOption(ctx.options, ctx.cluster, name, value, line, column, ctx.report);
      return;
  }
}

/**
 * What is wrong with a `Metrics_Listen` value, or undefined: an absolute Unix socket
 * path, or HOST:PORT with an IPv4 address or a bracketed IPv6 address and a port
 * 1–65535, on loopback unless the word `public` follows (metrics on the network are
 * then what the administrator asked for).
 */
export function metricsListenProblem(value: string): string | undefined {
  if (value.startsWith('/')) return undefined;
  const [address = '', flag, ...rest] = value.split(/\s+/);
  if (rest.length > 0 || (flag !== undefined && flag.toLowerCase() !== 'public'))
    return `unexpected "${[flag, ...rest].join(' ')}" after the address (only the word public may follow it)`;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(address);
  if (match === null) return 'expected ADDRESS:PORT or an absolute socket path';
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return `port ${match[3]} is outside 1-65535`;
  const v4 = match[2];
  if (v4 !== undefined && v4.split('.').some((part) => Number(part) > 255))
    return `${v4} is not an IPv4 address`;
  const loopback = v4 !== undefined ? v4.startsWith('127.') : match[1] === '::1';
  if (!loopback && flag === undefined)
    return `${v4 ?? match[1]} is not a loopback address: anyone on the network could read the metrics (write "${address} public" if that is what you want)`;
  return undefined;
}

/** Interface = eth0[,wlan0…] (several interfaces: an extension). */
function interfaces(ctx: ParseContext, d: Directive): void {
  if (!nonEmpty(ctx, d, 'eth0')) return;
  const { value, line, column } = d;
  let offset = 0;
  let ok = true;
  for (const part of value.split(',')) {
    const partColumn = column + offset + leadingSpace(part);
    offset += part.length + 1;
    const nameText = cTrim(part);
    if (nameText === '' || /[\s/]/.test(nameText) || nameText.length > 15) {
      ok = false;
      ctx.error(
        'config.interface.invalid',
        line,
        partColumn,
        nameText === ''
          ? 'empty interface name in the list'
          : `"${nameText}" is not an interface name`,
        'write an interface name such as eth0 (several: eth0,wlan0)',
      );
    }
  }
  if (ok)
    ctx.options.interface = value
      .split(',')
      .map((p) => cTrim(p))
      .join(',');
}
