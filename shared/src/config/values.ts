// The value parsers shared by the sections: seconds, non-empty values, TCPFlags, Open_Ports.
// Each reports into the context and returns what it could read.
import { cTrim, leadingSpace } from '../c-text.js';
import type { Protocol } from '../sequence.js';
import type { Directive, ParseContext } from './context.js';
import { asciiUpper, MAX_FIREWALL_SECONDS, MAX_SECONDS } from './directives.js';
import { TCP_FLAGS, type Door, type PortSpec, type TcpFlag } from './types.js';

// nftables refuses set timeouts this long; a longer grant or ban is meant as "forever".
export function firewallTooLong(ctx: ParseContext, d: Directive, instead: string): void {
  const { name, value, line, column } = d;
  ctx.error(
    'config.seconds.firewallRange',
    line,
    column,
    `${name} = ${value} is longer than a year, which the kernel's firewall sets cannot hold`,
    `write at most ${MAX_FIREWALL_SECONDS} seconds, or ${instead}`,
  );
}

export function seconds(ctx: ParseContext, d: Directive, example: number): number | undefined {
  const { name, value, line, column } = d;
  if (/^\+?\d+$/.test(value)) {
    const n = Number(value);
    if (n <= MAX_SECONDS) return n;
    ctx.error(
      'config.seconds.range',
      line,
      column,
      `${name} = ${value} is too large`,
      `write at most ${MAX_SECONDS} seconds`,
    );
    return undefined;
  }
  if (value === '') {
    ctx.error(
      'config.value.empty',
      line,
      column,
      `${name} has no value: knockd reads it as 0`,
      `write a number of seconds, e.g. ${name} = ${example}`,
    );
    return undefined;
  }
  const prefix = /^[+-]?\d+/.exec(value)?.[0];
  if (prefix !== undefined && prefix.startsWith('-')) {
    ctx.error(
      'config.seconds.negative',
      line,
      column,
      `${name} = ${value} is negative`,
      `write a number of seconds (0 or more), e.g. ${name} = ${example}`,
    );
    return undefined;
  }
  if (prefix !== undefined) {
    const n = Number(prefix);
    ctx.error(
      'config.seconds.trailing',
      line,
      column + prefix.length,
      `"${value}" is not a whole number of seconds: knockd reads it as ${n} and ignores the rest`,
      `write ${name} = ${n} (seconds; knockd has no units and no inline comments)`,
    );
    return n <= MAX_SECONDS ? n : undefined;
  }
  ctx.error(
    'config.seconds.notNumeric',
    line,
    column,
    `"${value}" is not a number of seconds: knockd reads it as 0`,
    `write a number of seconds, e.g. ${name} = ${example}`,
  );
  return undefined;
}

export function nonEmpty(ctx: ParseContext, d: Directive, what: string): boolean {
  const { name, value, line, column } = d;
  if (value !== '') return true;
  ctx.error('config.value.empty', line, column, `${name} has no value`, `write ${name} = ${what}`);
  return false;
}

export function tcpFlags(ctx: ParseContext, door: Door, d: Directive): void {
  const { value, line, column } = d;
  if (value === '') {
    ctx.error(
      'config.tcpFlags.empty',
      line,
      column,
      'TCPFlags has no value: knockd rejects it (unrecognized flag "")',
      'write TCPFlags = syn (or remove the line: without TCPFlags any TCP packet counts)',
    );
    return;
  }
  const tokens = value.split(',');
  const fixed = tokens.map((t) => t.replace(/[ \t\v\f\r\n]+/g, '')).join(',');
  const flagOf = (token: string): { flag: TcpFlag; set: boolean } | undefined => {
    const upper = asciiUpper(token);
    const set = !upper.startsWith('!');
    const name = (set ? upper : upper.slice(1)).toLowerCase();
    return (TCP_FLAGS as readonly string[]).includes(name)
      ? { flag: name as TcpFlag, set }
      : undefined;
  };
  const fixable = tokens.every((t) => flagOf(t.replace(/[ \t\v\f\r\n]+/g, '')) !== undefined);
  let offset = 0;
  const here = new Map<TcpFlag, boolean>();
  for (const token of tokens) {
    const tokenColumn = column + offset;
    offset += token.length + 1;
    const exact = flagOf(token);
    const said = exact && here.get(exact.flag);
    if (exact && said !== undefined && said !== exact.set)
      ctx.warning(
        'config.tcpFlags.contradiction',
        line,
        tokenColumn,
        `TCPFlags asks for ${exact.flag} both set and not set: no packet can be both, so this door can never open`,
        `keep one of ${exact.flag} and !${exact.flag}`,
      );
    if (exact) {
      here.set(exact.flag, exact.set);
      door.tcpFlags[exact.flag] = exact.set;
      continue;
    }
    const squeezed = flagOf(token.replace(/[ \t\v\f\r\n]+/g, ''));
    if (token === '') {
      ctx.error(
        'config.tcpFlags.emptyFlag',
        line,
        tokenColumn,
        'empty flag in TCPFlags (a doubled or trailing comma): knockd rejects it (unrecognized flag "")',
        fixable
          ? `write TCPFlags = ${tokens.filter((t) => t !== '').join(',')}`
          : 'remove the extra comma',
      );
    } else if (squeezed) {
      door.tcpFlags[squeezed.flag] = squeezed.set;
      ctx.error(
        'config.tcpFlags.spaces',
        line,
        tokenColumn,
        `knockd does not trim TCPFlags: it rejects "${token}" (unrecognized flag "${asciiUpper(token)}")`,
        fixable
          ? `write TCPFlags = ${fixed}`
          : 'write the flags without spaces, e.g. TCPFlags = syn,!ack',
      );
    } else {
      ctx.error(
        'config.tcpFlags.unknown',
        line,
        tokenColumn,
        `unrecognized flag "${token}" in TCPFlags`,
        'flags are fin, syn, rst, psh, ack, urg, each optionally prefixed with ! (no spaces), e.g. TCPFlags = syn,!ack',
      );
    }
  }
}

export function openPorts(ctx: ParseContext, door: Door, d: Directive): void {
  if (!nonEmpty(ctx, d, '22/tcp')) return;
  const { value, line, column } = d;
  const ports: PortSpec[] = [];
  let offset = 0;
  for (const part of value.split(',')) {
    const partColumn = column + offset + leadingSpace(part);
    offset += part.length + 1;
    const item = cTrim(part);
    const m = /^(\d{1,5})(?:[ \t\v\f\r]*\/[ \t\v\f\r]*([A-Za-z]+))?$/.exec(item);
    const proto = m?.[2]?.toLowerCase() ?? 'tcp';
    const port = m ? Number(m[1]) : NaN;
    if (!m || (proto !== 'tcp' && proto !== 'udp') || port < 1 || port > 65535) {
      const colon = /^(\d{1,5}):(tcp|udp)$/i.exec(item);
      ctx.error(
        'config.openPorts.invalid',
        line,
        partColumn,
        item === ''
          ? 'empty element in Open_Ports (a doubled or trailing comma)'
          : `"${item}" is not a port to open`,
        colon
          ? `write ${colon[1]}/${(colon[2] ?? '').toLowerCase()} (Open_Ports uses port/protocol)`
          : 'write ports as PORT/tcp or PORT/udp (1-65535), e.g. Open_Ports = 22/tcp,53/udp',
      );
      continue;
    }
    const spec: PortSpec = { port, protocol: proto as Protocol };
    if (ports.some((p) => p.port === spec.port && p.protocol === spec.protocol)) {
      ctx.warning(
        'config.openPorts.duplicate',
        line,
        partColumn,
        `${spec.port}/${spec.protocol} is listed twice`,
        'list each port once',
      );
      continue;
    }
    ports.push(spec);
  }
  if (ports.length > 0) door.openPorts = ports;
}
