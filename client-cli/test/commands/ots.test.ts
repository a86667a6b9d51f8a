import { describe, expect, it } from 'vitest';
import { ExitCode } from '@knock/shared';
import { run } from '../helpers/fake-deps.js';

describe('knock ots generate', () => {
  it('passes the options to the shared generator', async () => {
    const { code, stdout, f } = await run([
      'ots',
      'generate',
      '--count',
      '20',
      '--length',
      '3',
      '--udp-ratio',
      '0.5',
      '--min-port',
      '2000',
      '--max-port',
      '3000',
      '/tmp/x.ots',
    ]);
    expect(code).toBe(0);
    expect(f.generated).toEqual([
      {
        file: '/tmp/x.ots',
        options: { count: 20, length: 3, udpRatio: 0.5, minPort: 2000, maxPort: 3000 },
      },
    ]);
    expect(stdout).toBe('wrote 20 one-time sequences of 3 knocks to /tmp/x.ots\n');
  });

  it('--force and the default ratio', async () => {
    const { f } = await run(['ots', 'generate', '--count', '1', '--length', '1', '--force', 'f']);
    expect(f.generated[0]?.options).toEqual({ count: 1, length: 1, udpRatio: 0, force: true });
  });

  it.each([
    [['ots', 'generate', '--length', '3', 'f'], "required option '--count <n>' not specified"],
    [['ots', 'generate', '--count', '3', 'f'], "required option '--length <l>' not specified"],
    [
      ['ots', 'generate', '--count', '0', '--length', '3', 'f'],
      '--count wants a whole number from 1',
    ],
    [
      ['ots', 'generate', '--count', '2', '--length', '33', 'f'],
      '--length wants a whole number from 1 to 32',
    ],
    [
      ['ots', 'generate', '--count', '2', '--length', '3', '--udp-ratio', '2', 'f'],
      '--udp-ratio wants a number from 0 to 1',
    ],
    [['ots', 'generate', '--count', '2', '--length', '3'], "missing required argument 'file'"],
  ])('%j is a usage error', async (argv, message) => {
    const { code, stderr, f } = await run(argv);
    expect(code).toBe(ExitCode.usage);
    expect(stderr).toContain(message);
    expect(f.generated).toEqual([]);
  });
});
