// The seed deployment's knockd.trusted format (pure): one host name, address or CIDR per
// line, `#` comments (whole-line or after the value), blank lines.
import type { Issue } from '@knock/shared';
import { parseNetwork } from './address.js';

export type TrustedEntry =
  | { kind: 'address'; family: 4 | 6; address: string; line: number }
  | { kind: 'cidr'; family: 4 | 6; cidr: string; line: number }
  | { kind: 'hostname'; name: string; line: number };

export interface TrustedParse {
  entries: TrustedEntry[];
  issues: Issue[];
}

// RFC 1123 labels; a trailing dot (fully qualified) is fine.
const HOSTNAME =
  /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** Never throws: bad lines become issues naming file:line:column and the token. */
export function parseTrustedFile(text: string, file?: string): TrustedParse {
  const entries: TrustedEntry[] = [];
  const issues: Issue[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const hash = raw.indexOf('#');
    const content = hash < 0 ? raw : raw.slice(0, hash);
    // Blanks as the seed's `while read addr dummy` split them; a no-break space is part of a word.
    const match = /[^ \t\v\f\r]+/.exec(content);
    if (!match) return;
    const token = match[0];
    const column = match.index + 1;
    const issue = (severity: Issue['severity'], code: string, message: string, hint: string) => {
      const found: Issue = { severity, code, message, hint, line, column };
      if (file !== undefined) found.file = file;
      issues.push(found);
    };

    const rest = content
      .slice(match.index + token.length)
      .replace(/^[ \t\v\f\r]+|[ \t\v\f\r]+$/g, '');
    if (rest !== '') {
      // The seed's `while read addr dummy` ignored a second word; we do too, but say so.
      issue(
        'warning',
        'trusted.extraText',
        `'${rest}' after '${token}' is ignored`,
        'one entry per line; start comments with #',
      );
    }

    if (token.includes('/') || token.includes(':') || /^[\d.]+$/.test(token)) {
      const network = parseNetwork(token);
      if (network === undefined) {
        issue(
          'error',
          'trusted.badAddress',
          `invalid ${token.includes('/') ? 'CIDR' : 'address'} '${token}'`,
          'write an address (192.0.2.7, 2001:db8::7), a network (192.0.2.0/24) or a host name',
        );
        return;
      }
      if (network.hostBitsSet) {
        issue(
          'warning',
          'trusted.hostBits',
          `'${token}' has host bits set; trusting the whole network ${network.cidr}`,
          `write ${network.cidr}`,
        );
      }
      entries.push(
        network.cidr.includes('/')
          ? { kind: 'cidr', family: network.family, cidr: network.cidr, line }
          : { kind: 'address', family: network.family, address: network.cidr, line },
      );
      return;
    }
    if (!HOSTNAME.test(token)) {
      issue(
        'error',
        'trusted.badHostname',
        `invalid host name '${token}'`,
        'host names use letters, digits, hyphens and dots',
      );
      return;
    }
    entries.push({ kind: 'hostname', name: token, line });
  });
  return { entries, issues };
}
