import { ExitCode } from '@knock/shared';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SNAPLEN,
  assertPatched,
  loadCap,
  openCapture,
  openError,
  testFilter,
} from '../../src/capture/cap-source.js';
import { LinkTypes } from '../../src/capture/decode.js';

const isRoot = process.getuid?.() === 0;

describe('loadCap', () => {
  it('loads the patched cap build (postinstall applied patches/cap+0.2.1.patch and rebuilt it)', async () => {
    const cap = await loadCap();
    expect(cap.knockPatch).toBeGreaterThanOrEqual(1);
    expect(cap.defaultSnaplen).toBe(DEFAULT_SNAPLEN);
  });
});

describe('assertPatched', () => {
  it('refuses the stock cap with a message that says why and what to run', async () => {
    const real = await loadCap();
    // What stock cap 0.2.1 exports: no knockPatch marker, no setFilter/stats methods.
    class StockCap {
      open() {
        return 'ETHERNET';
      }
      close() {
        return true;
      }
    }
    const stock = {
      Cap: StockCap,
      deviceList: real.deviceList,
    } as unknown as Awaited<ReturnType<typeof loadCap>>;
    let error: unknown;
    try {
      assertPatched(stock);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'capture.capUnpatched',
      exitCode: ExitCode.capture,
      message: expect.stringContaining('65,535 bytes'),
      hint: expect.stringContaining('npm rebuild cap'),
    });
    expect(assertPatched(real)).toBe(real);
  });

  it('refuses a build of the first version of the patch (no batch delivery), saying to rebuild', async () => {
    const real = await loadCap();
    const older = { ...real, knockPatch: 1 } as Awaited<ReturnType<typeof loadCap>>;
    expect(() => assertPatched(older)).toThrow(
      expect.objectContaining({
        code: 'capture.capUnpatched',
        message: expect.stringContaining('older version (1)'),
        hint: expect.stringContaining('npm rebuild cap'),
      }),
    );
    expect(real.knockPatch).toBeGreaterThanOrEqual(2);
  });
});

describe('openError', () => {
  const available = ['lo', 'eth0', 'any'];

  it('names a missing interface and lists the ones that exist', () => {
    expect(
      openError('eth9', 'No such device exists (PCAP_ERROR_NO_SUCH_DEVICE)', available),
    ).toMatchObject({
      code: 'capture.noInterface',
      exitCode: ExitCode.capture,
      message: 'no such interface "eth9" (available: lo, eth0, any)',
    });
  });

  it('says an interface is down and how to bring it up', () => {
    expect(
      openError('eth0', 'eth0: That device is not up (PCAP_ERROR_IFACE_NOT_UP)', available),
    ).toMatchObject({
      code: 'capture.interfaceDown',
      message: 'interface "eth0" is down',
      hint: expect.stringContaining('ip link set eth0 up'),
    });
  });

  it('turns a permission error into the permission exit code with a root/CAP_NET_RAW hint', () => {
    expect(
      openError('eth0', 'socket: Operation not permitted (PCAP_ERROR_PERM_DENIED)', available),
    ).toMatchObject({
      code: 'capture.permission',
      exitCode: ExitCode.permission,
      message: 'no permission to capture on "eth0": socket: Operation not permitted',
      hint: expect.stringMatching(/root.*CAP_NET_RAW/),
    });
  });

  it('never suggests a capability on the node binary: root or the systemd unit (issue 9 item 5)', () => {
    const { hint } = openError('eth0', 'socket: Operation not permitted', available);
    expect(hint).not.toMatch(/setcap|\bnode\b/);
    expect(hint).toContain('install-service');
    expect(hint).toContain('AmbientCapabilities');
  });

  it('keeps other libpcap errors, labelled', () => {
    expect(openError('eth0', 'something odd', available)).toMatchObject({
      code: 'capture.failed',
      message: 'cannot capture on "eth0": something odd',
    });
  });
});

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
