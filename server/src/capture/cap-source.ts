/**
 * The libpcap PacketSource: one `cap` handle per interface, decoded with decode.ts.
 * cap-module.ts loads cap (knock's patched build); capture-errors.ts words the errors.
 */
import { decodeFrame, isSupportedLinkType, type LinkType } from './decode.js';
import {
  deviceNames,
  loadCap,
  type OpenOptions,
  type PatchedCap,
  type PatchedHandle,
} from './cap-module.js';
import { captureLost, noInterfaceGiven, openError, unsupportedLinkType } from './capture-errors.js';
import {
  emptyEvent,
  type CaptureCounters,
  type CaptureStats,
  type KnockEvent,
  type PacketSource,
} from './packet-source.js';

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

interface Handle {
  name: string;
  cap: PatchedHandle | undefined;
  linkType: LinkType;
  buffer: Buffer;
  /** Counters of handles closed before (stats never go backwards across reopens). */
  received: number;
  dropped: number;
  ifDropped: number;
}

/** One capture: what its handles share. */
interface CaptureState {
  readonly cap: PatchedCap;
  readonly handles: readonly Handle[];
  readonly snaplen: number;
  readonly bufferSize: number;
  readonly openOptions: OpenOptions;
  /** The BPF text every handle runs (a reopened one too). */
  filter: string;
  /** start()'s listeners; undefined before start() and after close(). */
  onEvent: ((event: KnockEvent) => void) | undefined;
  onError: ((error: Error) => void) | undefined;
  /** Errors that came before start(): delivered by start(). */
  readonly pendingErrors: Error[];
  /** The event every packet is decoded into. */
  readonly event: KnockEvent;
}

/** Opens one pcap handle per interface. Throws KnockError (see capture-errors.ts). */
export async function openCapture(options: CaptureOptions): Promise<Capture> {
  const cap = await loadCap();
  if (options.interfaces.length === 0) throw noInterfaceGiven();
  const snaplen = options.snaplen ?? cap.defaultSnaplen ?? DEFAULT_SNAPLEN;
  const batchBytes = Math.max(BATCH_BYTES, 4 * (snaplen + RECORD_HEADER + 8));
  const openOptions: OpenOptions = {
    snaplen,
    promisc: options.promiscuous ?? false,
    batch: true,
    holdMs: options.holdMs ?? DEFAULT_HOLD_MS,
  };
  if (options.linkType !== undefined) openOptions.datalink = options.linkType;
  const state: CaptureState = {
    cap,
    handles: [...new Set(options.interfaces)].map((name) => ({
      name,
      cap: undefined,
      linkType: 1,
      buffer: Buffer.alloc(batchBytes),
      received: 0,
      dropped: 0,
      ifDropped: 0,
    })),
    snaplen,
    bufferSize: Math.max(options.bufferSize ?? DEFAULT_BUFFER_SIZE, MIN_BUFFER_SIZE),
    openOptions,
    filter: options.filter,
    onEvent: undefined,
    onError: undefined,
    pendingErrors: [],
    event: emptyEvent(),
  };
  try {
    for (const handle of state.handles) openHandle(state, handle);
  } catch (error) {
    for (const handle of state.handles) retire(handle);
    throw error;
  }
  return captureOf(state);
}

/** The Capture of opened handles. */
function captureOf(state: CaptureState): Capture {
  const { cap, handles } = state;
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
      state.onEvent = eventListener;
      state.onError = errorListener;
      for (const error of state.pendingErrors.splice(0)) errorListener(error);
    },
    setFilter(text) {
      // Compile for every link type first: a bad filter changes nothing anywhere.
      for (const dlt of new Set(handles.map((h) => h.linkType)))
        try {
          cap.testFilter(text, dlt, state.snaplen, []);
        } catch (error) {
          throw openError('', error, undefined);
        }
      state.filter = text;
      for (const handle of handles) {
        try {
          handle.cap?.setFilter(text);
        } catch (error) {
          fail(state, handle, openError(handle.name, error, undefined));
        }
      }
    },
    stats(): CaptureStats {
      const c = counters(handles);
      return { received: c.received, dropped: c.kernelDropped + c.interfaceDropped };
    },
    counters: () => counters(handles),
    async reopen() {
      await Promise.resolve();
      for (const handle of handles) if (!handle.cap) openHandle(state, handle);
      refreshLinkTypes();
    },
    close() {
      for (const handle of handles) retire(handle);
      state.onEvent = undefined;
      state.onError = undefined;
    },
  };
}

/** Opens the pcap handle of one interface with the capture's current filter. */
function openHandle(state: CaptureState, handle: Handle): void {
  const c = new state.cap.Cap();
  try {
    c.open(handle.name, state.filter, state.bufferSize, handle.buffer, state.openOptions);
  } catch (error) {
    throw openError(handle.name, error, deviceNames(state.cap));
  }
  const dlt = c.datalink();
  if (!isSupportedLinkType(dlt)) {
    c.close();
    throw unsupportedLinkType(handle.name, dlt);
  }
  handle.linkType = dlt;
  c.on('packets', batchReader(state, handle.buffer, dlt));
  c.on('error', (error) => {
    if (handle.cap !== c) return;
    fail(state, handle, captureLost(handle.name, error));
  });
  handle.cap = c;
}

/** Decodes a batch of packet records in `buffer` and hands each event to onEvent. */
function batchReader(state: CaptureState, buffer: Buffer, dlt: LinkType): (count: number) => void {
  const event = state.event;
  // Record headers, read in place (Buffer.alloc gives an 8-aligned ArrayBuffer of its own).
  const words = new Uint32Array(buffer.buffer, buffer.byteOffset, buffer.length >>> 2);
  const times = new Float64Array(buffer.buffer, buffer.byteOffset, buffer.length >>> 3);
  return (count) => {
    let at = 0;
    for (let i = 0; i < count; i++) {
      // A listener may close the capture in the middle of a batch.
      const deliver = state.onEvent;
      if (!deliver) return;
      const length = words[at >>> 2]!;
      event.time = times[(at >>> 3) + 1]!;
      if (decodeFrame(buffer, length, dlt, event, at + RECORD_HEADER)) deliver(event);
      at += (RECORD_HEADER + length + 7) & ~7;
    }
  };
}

/** Closes a dead handle and reports why (start() delivers it if no one listens yet). */
function fail(state: CaptureState, handle: Handle, error: Error): void {
  retire(handle);
  if (state.onError) state.onError(error);
  else state.pendingErrors.push(error);
}

/** Closes a handle, keeping its counters. */
function retire(handle: Handle): void {
  const c = handle.cap;
  if (!c) return;
  handle.cap = undefined;
  try {
    const s = c.stats();
    handle.received += s.received;
    handle.dropped += s.dropped;
    handle.ifDropped += s.ifDropped;
  } catch {
    // a dead handle may have no stats left
  }
  c.close();
}

/** pcap_stats summed over the handles, closed ones included. */
function counters(handles: readonly Handle[]): CaptureCounters {
  let received = 0;
  let kernelDropped = 0;
  let interfaceDropped = 0;
  for (const handle of handles) {
    received += handle.received;
    kernelDropped += handle.dropped;
    interfaceDropped += handle.ifDropped;
    if (!handle.cap) continue;
    try {
      const s = handle.cap.stats();
      received += s.received;
      kernelDropped += s.dropped;
      interfaceDropped += s.ifDropped;
    } catch {
      // closed between the check and the call: counted at retire
    }
  }
  return { received, kernelDropped, interfaceDropped };
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
    return cap.testFilter(filter, linkType, snaplen, [...frames]);
  } catch (error) {
    throw openError('', error, undefined);
  }
}
