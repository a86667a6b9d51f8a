import { describe, expect, it } from 'vitest';
import { buildFilter, type FilterDoor } from '../../src/capture/filter.js';

const door = (port: number, family?: 4 | 6): FilterDoor => ({
  knocks: [{ port, protocol: 'tcp' }],
  tcpFlags: {},
  name: 'ssh',
  ...(family !== undefined ? { family } : {}),
});

describe('the capture filter with derived sequences of one family', () => {
  it("watches a derived sequence's ports over its own family only", () => {
    const filter = buildFilter([door(11111, 4), door(22222, 6)], {
      v4: ['192.0.2.2'],
      v6: ['2001:db8::2'],
    });
    const [v4, v6] = filter.split(' or ((dst host 2001:db8::2');
    expect(v4).toContain('tcp dst port 11111');
    expect(v4).not.toContain('22222');
    expect(v6).toContain('tcp dst port 22222');
    expect(v6).not.toContain('11111');
  });

  it('an IPv6 sequence on a host without IPv6 is no error (its IPv4 sibling is watched)', () => {
    expect(buildFilter([door(11111, 4), door(22222, 6)], { v4: ['192.0.2.2'], v6: [] })).toContain(
      'tcp dst port 11111',
    );
    // A door for both families still needs an address.
    expect(() => buildFilter([door(33333)], { v4: [], v6: [] })).toThrow(/no local address/);
  });
});
