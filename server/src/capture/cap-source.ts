/**
 * The libpcap PacketSource: one `cap` handle per interface, decoded with decode.ts.
 * The only module that loads `cap` (dynamically, so nothing else pays for the native
 * module). It requires knock's patch of cap (patches/cap+0.2.1.patch): a small snaplen
 * so the kernel ring holds thousands of packets, pcap timestamps, in-place filter
 * replacement, pcap_stats, and a dead capture reported as an error instead of an abort.
 */
import type * as CapModule from 'cap';
import { ExitCode, KnockError } from '@knock/shared';
import { decodeFrame, isSupportedLinkType, linkTypeName, type LinkType } from './decode.js';
import {
  emptyEvent,
  type CaptureCounters,
  type CaptureStats,
  type KnockEvent,
  type PacketSource,
} from './packet-source.js';

type Cap = typeof CapModule;

/** Enough for Ethernet, two VLAN tags, IPv6 with extension headers and the TCP header. */
export const DEFAULT_SNAPLEN = 256;
/**
 * 8 MiB: about 26,000 ring slots at a 256-byte snaplen, 130 ms of a 200,000 packets/s
 * flood: enough for the first few hundred milliseconds of one, while the JIT has not
 * optimized the packet path yet, and for a full garbage collection.
 */
export const DEFAULT_BUFFER_SIZE = 8 * 1024 * 1024;
const MIN_BUFFER_SIZE = 2 * 1024 * 1024;
/**
 * Under load, the ring is read every millisecond instead of waking up for each packet
 * (cap patch 2): a flood then costs ~1,000 wakeups per second instead of one per
 * packet, while a lone knock is still read at once.
 */
export const DEFAULT_HOLD_MS = 1;
/** Bytes of packet records handed to JavaScript per call (about 900 at 256 bytes each). */
const BATCH_BYTES = 256 * 1024;
/** Record header in a batch: u32 captured length, u32 wire length, f64 time. */
const RECORD_HEADER = 16;

export interface CaptureOptions {
  /** Interface names (`any` for all); one pcap handle each. */
  interfaces: readonly string[];
  /** BPF text (buildFilter's). Empty captures everything: don't. */
  filter: string;
  /** Kernel ring size in bytes (at least 2 MiB are used). */
  bufferSize?: number;
  /** Bytes captured per packet (default 256). */
  snaplen?: number;
  /** Promiscuous mode; off by default, as in knockd (knocks are addressed to us). */
  promiscuous?: boolean;
  /** Ask libpcap for this link type, e.g. LinkTypes.LINUX_SLL2 on `any`. */
  linkType?: LinkType;
  /** Under load, read the ring every this many ms instead of per packet (0: never). Default 1. */
  holdMs?: number;
}

export interface Capture extends PacketSource {
  /** The link type of each open interface. */
  readonly linkTypes: Readonly<Record<string, LinkType>>;
  /** Interfaces whose capture died (reported through onError) and is not reopened yet. */
  readonly failed: readonly string[];
  /**
   * Reopens every failed interface with the current filter and the same callbacks.
   * Throws the errors openCapture throws (the interface is still missing or down):
   * call it again later. Interfaces that still work are untouched.
   */
  reopen(): Promise<void>;
}

let loaded: Promise<Cap> | undefined;
/** The module once loaded (releaseMemory is synchronous). */
let capModule: Cap | undefined;

/** Loads cap once and checks that it is knock's patched build. */
export function loadCap(): Promise<Cap> {
  loaded ??= import('cap').then(
    (mod) =>
      (capModule = assertPatched((mod as { default?: Cap }).default ?? (mod as unknown as Cap))),
    (error: unknown) => {
      loaded = undefined;
      throw new KnockError(
        'capture.capMissing',
        `cannot load the packet capture module "cap": ${error instanceof Error ? error.message : String(error)}`,
        {
          exitCode: ExitCode.capture,
          hint: 'install libpcap-dev, then run `npm ci` (or `npx patch-package && npm rebuild cap`) in the project root',
          cause: error,
        },
      );
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
  if (capModule?.releaseMemory === undefined) return false;
  capModule.releaseMemory();
  return true;
}

/** Refuses a stock cap: it captures 65,535 bytes per packet and drops knocks under load. */
export function assertPatched(cap: Cap): Cap {
  const version = cap.knockPatch;
  if (typeof version === 'number' && version >= 1 && version < 2)
    throw new KnockError(
      'capture.capUnpatched',
      `the "cap" module is built with an older version (${version}) of knock's patch, without batch delivery: rebuild it`,
      {
        exitCode: ExitCode.capture,
        hint: 'run `rm -rf node_modules/cap/build && npm rebuild cap` in the project root (npm ci does it through postinstall)',
      },
    );
  if (
    typeof version !== 'number' ||
    version < 2 ||
    typeof cap.releaseMemory !== 'function' ||
    typeof cap.Cap.prototype.setFilter !== 'function' ||
    typeof cap.Cap.prototype.stats !== 'function'
  )
    throw new KnockError(
      'capture.capUnpatched',
      'the "cap" module is the stock build, without knock\'s patch: it captures 65,535 bytes per packet, so its ring holds ~160 packets and knocks get dropped under load',
      {
        exitCode: ExitCode.capture,
        hint: 'run `npx patch-package && npm rebuild cap` in the project root (npm ci does it through postinstall)',
      },
    );
  return cap;
}

/** The pcap error text of a failed open, mapped to the error the user reads. */
export function openError(
  name: string,
  message: string,
  available: readonly string[] | undefined,
): KnockError {
  const list = available?.length ? ` (available: ${available.join(', ')})` : '';
  if (/PCAP_ERROR_NO_SUCH_DEVICE|No such device/i.test(message))
    return new KnockError('capture.noInterface', `no such interface "${name}"${list}`, {
      exitCode: ExitCode.capture,
      hint: 'name an existing interface with -i or Interface = …, or leave both out to use the one carrying the default route',
    });
  if (/PCAP_ERROR_IFACE_NOT_UP|not up|went down/i.test(message))
    return new KnockError('capture.interfaceDown', `interface "${name}" is down`, {
      exitCode: ExitCode.capture,
      hint: `bring it up (ip link set ${name} up) or capture on another interface with -i`,
    });
  if (/PCAP_ERROR_PERM_DENIED|Operation not permitted|permission denied/i.test(message))
    return new KnockError(
      'capture.permission',
      `no permission to capture on "${name}": ${stripCode(message)}`,
      {
        exitCode: ExitCode.permission,
        // Never suggest setcap on node: every Node script on the host would get raw sockets.
        hint: 'run knock-server as root, or as the systemd service (knock-server install-service), whose unit gives CAP_NET_RAW and CAP_NET_ADMIN to knock-server alone (AmbientCapabilities)',
      },
    );
  if (/parse filter|syntax error|filter expression|illegal|unknown host|bogus/i.test(message))
    return new KnockError('capture.badFilter', `libpcap rejected the capture filter: ${message}`, {
      exitCode: ExitCode.capture,
      hint: "check the doors' Target addresses; if they are fine, this is a bug in knock: please report it",
    });
  return new KnockError('capture.failed', `cannot capture on "${name}": ${stripCode(message)}`, {
    exitCode: ExitCode.capture,
  });
}

const stripCode = (message: string): string => message.replace(/ \(PCAP_ERROR[A-Z_]*\)$/, '');

interface Handle {
  name: string;
  cap: CapModule.Cap | undefined;
  linkType: LinkType;
  buffer: Buffer;
  /** Counters of handles closed before (stats never go backwards across reopens). */
  received: number;
  dropped: number;
  ifDropped: number;
}

/** Opens one pcap handle per interface. Throws KnockError (see openError). */
export async function openCapture(options: CaptureOptions): Promise<Capture> {
  const cap = await loadCap();
  if (options.interfaces.length === 0)
    throw new KnockError('capture.noInterface', 'no capture interface given', {
      exitCode: ExitCode.capture,
      hint: 'name one with -i or Interface = …',
    });
  const snaplen = options.snaplen ?? cap.defaultSnaplen ?? DEFAULT_SNAPLEN;
  const bufferSize = Math.max(options.bufferSize ?? DEFAULT_BUFFER_SIZE, MIN_BUFFER_SIZE);
  let filter = options.filter;
  let onEvent: ((event: KnockEvent) => void) | undefined;
  let onError: ((error: Error) => void) | undefined;
  /** An error that came before start(): delivered by start(). */
  const pendingErrors: Error[] = [];
  const event = emptyEvent();
  const holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
  const batchBytes = Math.max(BATCH_BYTES, 4 * (snaplen + RECORD_HEADER + 8));
  const handles: Handle[] = [...new Set(options.interfaces)].map((name) => ({
    name,
    cap: undefined,
    linkType: 1,
    buffer: Buffer.alloc(batchBytes),
    received: 0,
    dropped: 0,
    ifDropped: 0,
  }));

  const fail = (handle: Handle, error: KnockError): void => {
    retire(handle);
    if (onError) onError(error);
    else pendingErrors.push(error);
  };

  const retire = (handle: Handle): void => {
    const c = handle.cap;
    if (!c) return;
    handle.cap = undefined;
    try {
      const s = c.stats!();
      handle.received += s.received;
      handle.dropped += s.dropped;
      handle.ifDropped += s.ifDropped;
    } catch {
      // a dead handle may have no stats left
    }
    c.close();
  };

  const open = (handle: Handle): void => {
    const c = new cap.Cap();
    const openOptions: CapModule.OpenOptions = {
      snaplen,
      promisc: options.promiscuous ?? false,
      batch: true,
      holdMs,
    };
    if (options.linkType !== undefined) openOptions.datalink = options.linkType;
    try {
      c.open(handle.name, filter, bufferSize, handle.buffer, openOptions);
    } catch (error) {
      throw openError(
        handle.name,
        error instanceof Error ? error.message : String(error),
        deviceNames(cap),
      );
    }
    const dlt = c.datalink!();
    if (!isSupportedLinkType(dlt)) {
      c.close();
      throw new KnockError(
        'capture.linkType',
        `interface "${handle.name}" has link type ${linkTypeName(dlt)}, which knock-server cannot decode`,
        {
          exitCode: ExitCode.capture,
          hint: 'capture on an Ethernet, raw IP or loopback interface, or on `any`',
        },
      );
    }
    handle.linkType = dlt;
    const buffer = handle.buffer;
    // Record headers, read in place (Buffer.alloc gives an 8-aligned ArrayBuffer of its own).
    const words = new Uint32Array(buffer.buffer, buffer.byteOffset, buffer.length >>> 2);
    const times = new Float64Array(buffer.buffer, buffer.byteOffset, buffer.length >>> 3);
    c.on('packets', (count) => {
      let at = 0;
      for (let i = 0; i < count; i++) {
        // A listener may close the capture in the middle of a batch.
        const deliver = onEvent;
        if (!deliver) return;
        const length = words[at >>> 2]!;
        event.time = times[(at >>> 3) + 1]!;
        if (decodeFrame(buffer, length, dlt, event, at + RECORD_HEADER)) deliver(event);
        at += (RECORD_HEADER + length + 7) & ~7;
      }
    });
    c.on('error', (error) => {
      if (handle.cap !== c) return;
      fail(
        handle,
        new KnockError('capture.lost', `capture on "${handle.name}" stopped: ${error.message}`, {
          exitCode: ExitCode.capture,
          hint: 'knock-server retries until the interface is back',
          cause: error,
        }),
      );
    });
    handle.cap = c;
  };

  try {
    for (const handle of handles) open(handle);
  } catch (error) {
    for (const handle of handles) retire(handle);
    throw error;
  }

  const counters = (): CaptureCounters => {
    let received = 0;
    let kernelDropped = 0;
    let interfaceDropped = 0;
    for (const handle of handles) {
      received += handle.received;
      kernelDropped += handle.dropped;
      interfaceDropped += handle.ifDropped;
      if (!handle.cap) continue;
      try {
        const s = handle.cap.stats!();
        received += s.received;
        kernelDropped += s.dropped;
        interfaceDropped += s.ifDropped;
      } catch {
        // closed between the check and the call: counted at retire
      }
    }
    return { received, kernelDropped, interfaceDropped };
  };

  const linkTypes: Record<string, LinkType> = {};
  const refreshLinkTypes = (): void => {
    for (const h of handles) if (h.cap) linkTypes[h.name] = h.linkType;
  };
  refreshLinkTypes();

  return {
    linkTypes,
    get failed() {
      return handles.filter((h) => !h.cap).map((h) => h.name);
    },
    start(eventListener, errorListener) {
      onEvent = eventListener;
      onError = errorListener;
      for (const error of pendingErrors.splice(0)) errorListener(error);
    },
    setFilter(text) {
      // Compile for every link type first: a bad filter changes nothing anywhere.
      if (cap.testFilter)
        for (const dlt of new Set(handles.map((h) => h.linkType)))
          try {
            cap.testFilter(text, dlt, snaplen, []);
          } catch (error) {
            throw openError('', error instanceof Error ? error.message : String(error), undefined);
          }
      filter = text;
      for (const handle of handles) {
        try {
          handle.cap?.setFilter!(text);
        } catch (error) {
          fail(
            handle,
            openError(
              handle.name,
              error instanceof Error ? error.message : String(error),
              undefined,
            ),
          );
        }
      }
    },
    stats(): CaptureStats {
      const c = counters();
      return { received: c.received, dropped: c.kernelDropped + c.interfaceDropped };
    },
    counters,
    async reopen() {
      await Promise.resolve();
      for (const handle of handles) if (!handle.cap) open(handle);
      refreshLinkTypes();
    },
    close() {
      for (const handle of handles) retire(handle);
      onEvent = undefined;
      onError = undefined;
    },
  };
}

/**
 * Runs `filter`, compiled by libpcap for `linkType`, over `frames`: which ones it
 * accepts. For tests and diagnostics; needs no privileges (pcap_open_dead).
 */
export async function testFilter(
  filter: string,
  linkType: LinkType,
  frames: readonly Buffer[],
  snaplen = DEFAULT_SNAPLEN,
): Promise<boolean[]> {
  const cap = await loadCap();
  try {
    return cap.testFilter!(filter, linkType, snaplen, [...frames]);
  } catch (error) {
    throw openError('', error instanceof Error ? error.message : String(error), undefined);
  }
}

/** libpcap's capture sources that are not network interfaces (netfilter, D-Bus, USB…). */
const PSEUDO_DEVICE = /^(nflog|nfqueue|dbus-|bluetooth|usbmon|rpcap)/;

function deviceNames(cap: Cap): string[] | undefined {
  try {
    return cap
      .deviceList()
      .map((d) => d.name)
      .filter((name) => !PSEUDO_DEVICE.test(name));
  } catch {
    return undefined;
  }
}
