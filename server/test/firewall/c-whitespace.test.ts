// Issue 9 item 20, the server's own parsers: C blanks only, as in knockd.conf.
import { describe, expect, it } from 'vitest';
import { parseTrustedFile } from '../../src/firewall/trusted.js';
import { parsePortSpec } from '../../src/firewall/validate.js';

describe('Unicode spaces are not blanks', () => {
  it('the trusted file: a no-break space is part of the word, so the line is refused', () => {
    const parsed = parseTrustedFile('192.0.2.1\u00a0\n198.51.100.0/24\n', 'trusted');
    expect(parsed.issues.filter((i) => i.severity === 'error')).toHaveLength(1);
    expect(parsed.issues[0]?.line).toBe(1);
    expect(parsed.entries).toHaveLength(1);
  });

  it('fw --port: a no-break space is not a blank', () => {
    expect(parsePortSpec(' 22 / tcp ')).toEqual({ port: 22, protocol: 'tcp' });
    expect(parsePortSpec('22\u00a0/tcp')).toBeUndefined();
  });
});
