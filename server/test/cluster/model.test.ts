import { describe, expect, it } from 'vitest';
import { decodeBan, decodeGrant } from '../../src/cluster/model.js';

const GRANT_ID = '192.0.2.7|tcp|22';
const grant = (fields: Record<string, unknown>) =>
  JSON.stringify({ address: '192.0.2.7', protocol: 'tcp', port: 22, ...fields });
const ban = (fields: Record<string, unknown>) =>
  JSON.stringify({ address: '192.0.2.7', ...fields });

describe('decoding what the store holds', () => {
  it('a grant and a ban keep who made them: node, time, and the door when there is one', () => {
    expect(decodeGrant(GRANT_ID, grant({ node: 'a', at: 5, door: 'ssh' }))).toEqual({
      address: '192.0.2.7',
      protocol: 'tcp',
      port: 22,
      node: 'a',
      at: 5,
      door: 'ssh',
    });
    expect(decodeBan('192.0.2.7', ban({ node: 'b', at: 6 }))).toEqual({
      address: '192.0.2.7',
      node: 'b',
      at: 6,
    });
  });

  it('names what is wrong with who made it, alike for grants and bans', () => {
    for (const [fields, reason] of [
      [{ at: 5 }, 'no node'],
      [{ node: 'x'.repeat(65), at: 5 }, 'no node'],
      [{ node: 'a' }, 'no time'],
      [{ node: 'a', at: -1 }, 'no time'],
      [{ node: 'a', at: 5, door: '' }, 'a bad door name'],
    ] as const) {
      expect(decodeGrant(GRANT_ID, grant(fields))).toBe(reason);
      expect(decodeBan('192.0.2.7', ban(fields))).toBe(reason);
    }
  });

  it('a value that does not match its key is junk', () => {
    expect(decodeGrant(GRANT_ID, grant({ port: 23, node: 'a', at: 5 }))).toBe(
      'the value does not match the key',
    );
    expect(decodeBan('192.0.2.8', ban({ node: 'a', at: 5 }))).toBe(
      'the value does not match the key',
    );
  });
});
