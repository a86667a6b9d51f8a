import { formatIpv6Words } from '../ip-text.js';

// IP literals. knockd compares Target as *text* with inet_ntoa()/inet_ntop() of the packet's
// destination, so only the canonical spelling can ever match.

function parseIPv4(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

function parseIPv6(text: string): number[] | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = [((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0)];
    head = text.slice(0, lastColon + 1);
    // 'a:b:1.2.3.4' → 'a:b'; '::1.2.3.4' keeps its '::'.
    if (!head.endsWith('::') && head.endsWith(':')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0] ?? '');
  const right = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!left || !right) return undefined;
  const given = left.length + right.length + tail.length;
  if (halves.length === 2) {
    if (given > 7) return undefined;
    return [...left, ...Array<number>(8 - given).fill(0), ...right, ...tail];
  }
  return given === 8 ? [...left, ...tail] : undefined;
}

/**
 * The spelling knockd's string comparison needs for an IP literal (inet_ntoa / inet_ntop),
 * or undefined when `text` is not an IP address at all.
 */
export function canonicalIp(text: string): { family: 4 | 6; text: string } | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, text: v4.join('.') };
  const v6 = parseIPv6(text);
  if (v6) return { family: 6, text: formatIpv6Words(v6) };
  return undefined;
}
