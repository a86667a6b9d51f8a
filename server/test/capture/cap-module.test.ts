import { ExitCode } from '@knock/shared';
import { describe, expect, it } from 'vitest';
import {
  assertPatched,
  deviceNames,
  loadCap,
  releaseMemory,
  type PatchedCap,
} from '../../src/capture/cap-module.js';
import { DEFAULT_SNAPLEN } from '../../src/capture/cap-source.js';

/** What assertPatched is given: the cap module as it loads, stock or patched. */
type LoadedCap = Parameters<typeof assertPatched>[0];

// What stock cap 0.2.1 exports: no knockPatch marker, no setFilter/stats/datalink methods.
class StockHandle {
  open() {
    return 'ETHERNET';
  }
  close() {
    return true;
  }
}
class PatchedHandle extends StockHandle {
  setFilter() {}
  stats() {
    return { received: 0, dropped: 0, ifDropped: 0 };
  }
  datalink() {
    return 1;
  }
}

/** The patched handle class, minus one of the methods the patch adds. */
function handleWithout(method: 'setFilter' | 'stats' | 'datalink'): typeof PatchedHandle {
  const Handle = class extends PatchedHandle {};
  Object.defineProperty(Handle.prototype, method, { value: undefined });
  return Handle;
}

/** A cap module with knock's patch 2, minus or plus what `change` says. */
function fakeCap(change: Record<string, unknown> = {}): LoadedCap {
  return {
    Cap: PatchedHandle,
    deviceList: () => [],
    testFilter: () => [],
    releaseMemory: () => {},
    knockPatch: 2,
    defaultSnaplen: DEFAULT_SNAPLEN,
    ...change,
  } as unknown as LoadedCap;
}

const stockBuild = expect.objectContaining({
  code: 'capture.capUnpatched',
  exitCode: ExitCode.capture,
  message: expect.stringContaining('65,535 bytes'),
  hint: expect.stringContaining('npx patch-package && npm rebuild cap'),
});

describe('loadCap', () => {
  it('loads the patched cap build (postinstall applied patches/cap+0.2.1.patch and rebuilt it)', async () => {
    const cap = await loadCap();
    expect(cap.knockPatch).toBeGreaterThanOrEqual(2);
    expect(cap.defaultSnaplen).toBe(DEFAULT_SNAPLEN);
    expect(await loadCap()).toBe(cap);
  });
});

describe('releaseMemory', () => {
  it("runs the patch's collection once cap is loaded", async () => {
    await loadCap();
    expect(releaseMemory()).toBe(true);
  });
});

describe('assertPatched', () => {
  it('refuses the stock cap with a message that says why and what to run', () => {
    const stock = {
      Cap: StockHandle,
      deviceList: () => [],
    } as unknown as LoadedCap;
    expect(() => assertPatched(stock)).toThrow(stockBuild);
  });

  it('refuses a build of the first version of the patch (no batch delivery), saying to rebuild', () => {
    expect(() => assertPatched(fakeCap({ knockPatch: 1 }))).toThrow(
      expect.objectContaining({
        code: 'capture.capUnpatched',
        message: expect.stringContaining('older version (1)'),
        hint: expect.stringContaining('rm -rf node_modules/cap/build && npm rebuild cap'),
      }),
    );
  });

  it.each([
    ['releaseMemory', { releaseMemory: undefined }],
    ['testFilter', { testFilter: undefined }],
    ['setFilter', { Cap: handleWithout('setFilter') }],
    ['stats', { Cap: handleWithout('stats') }],
    ['datalink', { Cap: handleWithout('datalink') }],
  ])('refuses a build that claims the patch but has no %s', (_member, change) => {
    expect(() => assertPatched(fakeCap(change))).toThrow(stockBuild);
  });

  it("returns the patched build's members", () => {
    const loaded = fakeCap();
    expect(assertPatched(loaded)).toEqual({
      Cap: PatchedHandle,
      deviceList: loaded.deviceList,
      testFilter: loaded.testFilter,
      releaseMemory: loaded.releaseMemory,
      knockPatch: 2,
      defaultSnaplen: DEFAULT_SNAPLEN,
    });
  });

  it('accepts the installed build', async () => {
    const real = await loadCap();
    const checked = assertPatched(real as unknown as LoadedCap);
    expect(checked).toEqual(real);
    expect(typeof new checked.Cap().datalink).toBe('function');
  });
});

describe('deviceNames', () => {
  const withDevices = (deviceList: () => { name: string }[]): PatchedCap =>
    ({ ...fakeCap(), deviceList }) as unknown as PatchedCap;

  it("lists the network interfaces, not libpcap's pseudo devices", () => {
    const names = ['lo', 'nflog', 'eth0', 'dbus-system', 'usbmon1', 'any', 'bluetooth0'];
    expect(deviceNames(withDevices(() => names.map((name) => ({ name }))))).toEqual([
      'lo',
      'eth0',
      'any',
    ]);
  });

  it('is undefined when libpcap cannot list them', () => {
    const failing = withDevices(() => {
      throw new Error('pcap_findalldevs failed');
    });
    expect(deviceNames(failing)).toBeUndefined();
  });
});
