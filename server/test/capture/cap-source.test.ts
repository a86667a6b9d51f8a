import { ExitCode } from '@knock/shared';
import { describe, expect, it } from 'vitest';
import { openCapture, testFilter } from '../../src/capture/cap-source.js';
import { LinkTypes } from '../../src/capture/decode.js';

const isRoot = process.getuid?.() === 0;

describe('testFilter', () => {
  it('reports libpcap compile errors as a KnockError', async () => {
    await expect(testFilter('tcp dst port', LinkTypes.EN10MB, [])).rejects.toMatchObject({
      code: 'capture.badFilter',
    });
  });
});

describe('openCapture', () => {
  it('needs at least one interface', async () => {
    await expect(openCapture({ interfaces: [], filter: '' })).rejects.toMatchObject({
      code: 'capture.noInterface',
    });
  });

  it.skipIf(!isRoot)(
    'names a missing interface and lists the existing ones (skipped: needs root)',
    async () => {
      const error: unknown = await openCapture({
        interfaces: ['knock-nope0'],
        filter: 'less 1',
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'capture.noInterface',
        exitCode: ExitCode.capture,
        message: expect.stringMatching(
          /^no such interface "knock-nope0" \(available: .*\blo\b.*\)$/,
        ),
      });
    },
  );
});
