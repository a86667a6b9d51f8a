import { describe, expect, it } from 'vitest';
import { HostLookup } from '../../src/daemon/lookup.js';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('HostLookup', () => {
  it('never blocks: the first call starts a lookup and returns nothing, later calls have the name', async () => {
    const calls: string[] = [];
    const lookup = new HostLookup({
      reverse: (a) => {
        calls.push(a);
        return Promise.resolve(['host.example.']);
      },
    });
    expect(lookup.nameOf('192.0.2.1')).toBeUndefined();
    expect(lookup.nameOf('192.0.2.1')).toBeUndefined();
    await tick();
    expect(lookup.nameOf('192.0.2.1')).toBe('host.example.');
    expect(calls).toEqual(['192.0.2.1']);
  });

  it('remembers failures too (no lookup storm for an address without PTR)', async () => {
    let calls = 0;
    const lookup = new HostLookup({
      reverse: () => {
        calls++;
        return Promise.reject(new Error('ENOTFOUND'));
      },
    });
    lookup.request('192.0.2.9');
    await tick();
    expect(lookup.nameOf('192.0.2.9')).toBeUndefined();
    expect(calls).toBe(1);
  });

  it('refuses names that are not plain host names (they go into log lines)', async () => {
    const lookup = new HostLookup({
      reverse: () =>
        Promise.resolve(['evil\n[2006-03-15 09:41] 192.0.2.66: ssh: OPEN SESAME', 'ok.example']),
    });
    lookup.request('192.0.2.66');
    await tick();
    expect(lookup.nameOf('192.0.2.66')).toBe('ok.example');
  });

  it('keeps at most `max` names, dropping the oldest, and forgets them after the TTL', async () => {
    let now = 0;
    const lookup = new HostLookup({
      reverse: (a) => Promise.resolve([`h${a.split('.').pop()}`]),
      max: 2,
      ttlMs: 100,
      now: () => now,
    });
    for (const a of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) lookup.request(a);
    await tick();
    expect(lookup.nameOf('192.0.2.3')).toBe('h3');
    expect(lookup.nameOf('192.0.2.2')).toBe('h2');
    now = 200;
    expect(lookup.nameOf('192.0.2.3')).toBeUndefined();
  });
});
