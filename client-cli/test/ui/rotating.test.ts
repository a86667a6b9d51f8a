import { describe, expect, it, vi } from 'vitest';
import { deriveSequence, parseSecret, profileSpec, type Knock, type Profile } from '@knock/shared';
import { runTui } from '../../src/ui/run.js';
import { FakeStore, SECRET, keys, rotatingKeys } from './fakes.js';
import { FakeStdin, FakeStdout } from './streams.js';

const rotating = rotatingKeys();
const host: Profile = { host: 'rot.example.org', family: 'any', delayMs: 0, port: 22, rotating };

describe('knock ui: a rotating profile', () => {
  it('knocks the sequence of the injected clock through the shared knock service', async () => {
    const now = Date.UTC(2026, 11, 2, 13, 0, 5);
    const sends: { addresses: string[]; knocks: readonly Knock[] }[] = [];
    const stdin = new FakeStdin();
    const stdout = new FakeStdout();
    const done = runTui({
      stdin: stdin as unknown as NodeJS.ReadStream,
      stdout: stdout as unknown as NodeJS.WriteStream,
      store: new FakeStore([host]),
      resolveTargets: () => Promise.resolve(['192.0.2.2', '2001:db8::2']),
      sendKnocks: ({ addresses, knocks }) => {
        sends.push({ addresses: [...addresses], knocks });
        return Promise.resolve();
      },
      verifyOpen: () => Promise.resolve({ state: 'open', address: '192.0.2.2', elapsedMs: 3 }),
      takeOneTimeSequence: () => Promise.reject(new Error('not used')),
      now: () => now,
    });
    await vi.waitFor(() => expect(stdout.output).toContain('rot.example.org'), { timeout: 5000 });
    expect(stdout.output).toContain('rotating: door ssh');
    stdin.write('\r');
    await vi.waitFor(() => expect(sends).toHaveLength(2), { timeout: 5000 });
    const spec = profileSpec(rotating, parseSecret(SECRET).secret!);
    const step = Math.floor(now / 30_000);
    expect(sends).toEqual([
      { addresses: ['192.0.2.2'], knocks: deriveSequence(spec, 4, step) },
      { addresses: ['2001:db8::2'], knocks: deriveSequence(spec, 6, step) },
    ]);
    stdin.write(keys.ctrlC);
    await done;
  });
});
