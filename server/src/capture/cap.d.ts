// The parts of `cap` 0.2.1 (CommonJS, untyped) that cap-module.ts uses, as patched by
// patches/cap+0.2.1.patch. Members marked "patch" exist only in the patched build.
declare module 'cap' {
  import type { EventEmitter } from 'node:events';

  namespace cap {
    interface OpenOptions {
      /** patch: bytes captured per packet (default 256). */
      snaplen?: number;
      /** patch: promiscuous mode (stock cap always turns it on). */
      promisc?: boolean;
      /** patch: ask for this DLT (pcap_set_datalink), e.g. 276 for SLL2 on `any`. */
      datalink?: number;
      /**
       * patch 2: deliver packets in batches ('packets' events): the buffer then holds
       * records of u32 captured length, u32 wire length, f64 time (ms, host byte
       * order), the bytes, padded to 8. It must hold at least snaplen + 24 bytes.
       */
      batch?: boolean;
      /**
       * patch 2, batch mode: under load (32 packets within 10 ms) read the ring every
       * `holdMs` instead of waking up for each packet, until a read finds it empty.
       * 0 (default): always wake up per packet.
       */
      holdMs?: number;
    }

    interface PcapStats {
      received: number;
      dropped: number;
      ifDropped: number;
    }

    interface DeviceAddress {
      addr?: string;
      netmask?: string;
      broadaddr?: string;
      dstaddr?: string;
    }

    interface Device {
      name: string;
      description?: string;
      addresses: DeviceAddress[];
      flags?: string;
    }

    class Cap extends EventEmitter {
      /** Returns a link-type name ('ETHERNET', 'LINKTYPE_LINUX_SLL', … or 'Unknown linktype N'). */
      open(
        device: string,
        filter: string,
        bufferSize: number,
        buffer: Buffer,
        options?: OpenOptions,
      ): string;
      close(): boolean;
      /** patch */
      setFilter?(filter: string): void;
      /** patch */
      stats?(): PcapStats;
      /** patch */
      datalink?(): number;
      /** patch */
      snaplen?(): number;
      /** 'packet' (stock: nbytes, truncated; patch adds capture time in ms and wire length). */
      on(
        event: 'packet',
        listener: (
          nbytes: number,
          truncated: boolean,
          timeMs?: number,
          wireLength?: number,
        ) => void,
      ): this;
      /** patch 2, batch mode: `count` records in the first `bytes` bytes of the buffer. */
      on(event: 'packets', listener: (count: number, bytes: number) => void): this;
      /** patch: the capture died (interface deleted or down). */
      on(event: 'error', listener: (error: Error) => void): this;
    }

    function deviceList(): Device[];
    /** patch: compiles `filter` for `datalink` and runs it over `frames`. */
    let testFilter:
      | ((filter: string, datalink: number, snaplen: number, frames: Buffer[]) => boolean[])
      | undefined;
    /** patch 2: a full garbage collection (V8's low-memory notification), then malloc_trim. */
    let releaseMemory: (() => void) | undefined;
    /** patch: version of knock's patch (undefined: stock cap). */
    let knockPatch: number | undefined;
    /** patch: the snaplen used when open() gets none. */
    let defaultSnaplen: number | undefined;
  }

  export = cap;
}
