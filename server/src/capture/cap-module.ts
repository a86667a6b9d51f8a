/**
 * The one module that loads `cap` (dynamically, so nothing else pays for the native
 * module); eslint.config.js refuses `cap` anywhere else. It requires knock's patch of cap
 * (patches/cap+0.2.1.patch): a small snaplen so the kernel ring holds thousands of
 * packets, pcap timestamps, in-place filter replacement, pcap_stats, and a dead capture
 * reported as an error instead of an abort. assertPatched checks the patch once and
 * returns it as a PatchedCap, whose patched members are typed as present.
 */
import type * as CapModule from 'cap';
import { capMissing, capUnpatched } from './capture-errors.js';

/** cap as it may come: stock or patched (cap.d.ts marks the patch's members optional). */
type Cap = typeof CapModule;

export type OpenOptions = CapModule.OpenOptions;

/** A capture handle of the patched build. */
export interface PatchedHandle extends CapModule.Cap {
  setFilter(filter: string): void;
  stats(): CapModule.PcapStats;
  datalink(): number;
}

/** cap with knock's patch, checked by assertPatched: the members knock uses. */
export interface PatchedCap {
  readonly Cap: new () => PatchedHandle;
  readonly deviceList: Cap['deviceList'];
  /** Compiles a filter for a link type and runs it over frames (pcap_open_dead). */
  readonly testFilter: NonNullable<Cap['testFilter']>;
  readonly releaseMemory: NonNullable<Cap['releaseMemory']>;
  readonly knockPatch: number;
  /** The snaplen open() uses when it gets none. */
  readonly defaultSnaplen: number | undefined;
}

let loaded: Promise<PatchedCap> | undefined;
/** The module once loaded (releaseMemory is synchronous). */
let capModule: PatchedCap | undefined;

/** Loads cap once and checks that it is knock's patched build. */
export function loadCap(): Promise<PatchedCap> {
  loaded ??= import('cap').then(
    (mod) =>
      (capModule = assertPatched((mod as { default?: Cap }).default ?? (mod as unknown as Cap))),
    (error: unknown) => {
      loaded = undefined;
      throw capMissing(error);
    },
  );
  return loaded;
}

/**
 * Gives memory back to the system (cap patch 2): V8's low-memory collection, then
 * malloc_trim. A full collection pauses the event loop for tens of milliseconds, which
 * the capture ring absorbs; call it when a burst is over, not per packet. False when
 * the capture module is not loaded.
 */
export function releaseMemory(): boolean {
  if (capModule === undefined) return false;
  capModule.releaseMemory();
  return true;
}

/** Refuses a stock cap: it captures 65,535 bytes per packet and drops knocks under load. */
export function assertPatched(cap: Cap): PatchedCap {
  const { knockPatch, testFilter, releaseMemory, Cap: Handle } = cap;
  if (
    typeof knockPatch !== 'number' ||
    knockPatch < 2 ||
    typeof releaseMemory !== 'function' ||
    typeof testFilter !== 'function' ||
    !hasPatchedMethods(Handle)
  )
    throw capUnpatched(typeof knockPatch === 'number' ? knockPatch : undefined);
  return {
    Cap: Handle,
    deviceList: cap.deviceList,
    testFilter,
    releaseMemory,
    knockPatch,
    defaultSnaplen: cap.defaultSnaplen,
  };
}

/** The handle class has the methods the patch adds. */
function hasPatchedMethods(
  handle: typeof CapModule.Cap,
): handle is typeof CapModule.Cap & (new () => PatchedHandle) {
  const proto = handle.prototype;
  return (
    typeof proto.setFilter === 'function' &&
    typeof proto.stats === 'function' &&
    typeof proto.datalink === 'function'
  );
}

/** libpcap's capture sources that are not network interfaces (netfilter, D-Bus, USB…). */
const PSEUDO_DEVICE = /^(nflog|nfqueue|dbus-|bluetooth|usbmon|rpcap)/;

/** The network interfaces libpcap can open (undefined: it cannot list them). */
export function deviceNames(cap: PatchedCap): string[] | undefined {
  try {
    return cap
      .deviceList()
      .map((d) => d.name)
      .filter((name) => !PSEUDO_DEVICE.test(name));
  } catch {
    return undefined;
  }
}
