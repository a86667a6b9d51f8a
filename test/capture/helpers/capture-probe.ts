/**
 * Runs inside a lab namespace (a libpcap handle binds to the namespace of the process
 * that opens it), drives the real capture code, and reports as JSON lines on stdout.
 * Commands arrive as JSON lines on stdin: { id, op, ... }. See probe.ts for the test side.
 */
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import {
  openCapture,
  type Capture,
  type CaptureOptions,
} from '../../../server/src/capture/cap-source.js';
import { localAddresses, watchAddresses } from '../../../server/src/capture/interfaces.js';

interface Command {
  id: number;
  op:
    | 'open'
    | 'setFilter'
    | 'stats'
    | 'reopen'
    | 'close'
    | 'localAddresses'
    | 'raw'
    | 'rawClose'
    | 'block'
    | 'watch';
  options?: CaptureOptions;
  filter?: string;
  interfaces?: string[];
  device?: string;
  ms?: number;
}

interface RawCap {
  open(device: string, filter: string, bufSize: number, buffer: Buffer, options?: object): string;
  close(): boolean;
  snaplen(): number;
  on(event: 'packet', l: (n: number, truncated: boolean, time: number, wire: number) => void): void;
  on(event: 'error', l: (error: Error) => void): void;
}

const write = (message: object): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

let capture: Capture | undefined;
let raw: RawCap | undefined;
let stopWatch: (() => void) | undefined;

async function handle(command: Command): Promise<object> {
  switch (command.op) {
    case 'open':
      capture = await openCapture(command.options!);
      capture.start(
        (event) => write({ type: 'event', event: { ...event } }),
        (error) => write({ type: 'error', error: describe(error) }),
      );
      return { linkTypes: { ...capture.linkTypes } };
    case 'setFilter':
      capture!.setFilter(command.filter!);
      return {};
    case 'stats':
      return { stats: capture!.stats(), failed: capture!.failed };
    case 'reopen':
      await capture!.reopen();
      return { linkTypes: { ...capture!.linkTypes }, failed: capture!.failed };
    case 'close':
      capture?.close();
      capture = undefined;
      return {};
    case 'localAddresses':
      return { addresses: localAddresses(command.interfaces!) };
    case 'raw': {
      // cap itself, with no snaplen option: what the patch's default gives.
      const require = createRequire(import.meta.url);
      const cap = require('cap') as { Cap: new () => RawCap };
      raw = new cap.Cap();
      const buffer = Buffer.alloc(65536);
      raw.open(command.device!, command.filter!, 2 * 1024 * 1024, buffer);
      raw.on('packet', (nbytes, truncated, time, wireLength) =>
        write({ type: 'raw', nbytes, truncated, time, wireLength }),
      );
      raw.on('error', (error) => write({ type: 'error', error: describe(error) }));
      return { snaplen: raw.snaplen() };
    }
    case 'watch': {
      stopWatch?.();
      stopWatch = watchAddresses(
        command.interfaces!,
        (addresses) => write({ type: 'addresses', addresses }),
        command.ms ?? 100,
      );
      // The watcher's timer does not hold the process; stdin does.
      return {};
    }
    case 'block': {
      // Replies first (stdout is synchronous on a pipe), then stalls the event loop the
      // way a GC pause or a fork of a big process does.
      setImmediate(() => {
        const until = Date.now() + command.ms!;
        while (Date.now() < until);
        write({ type: 'unblocked' });
      });
      return {};
    }
    case 'rawClose':
      raw?.close();
      raw = undefined;
      return {};
  }
}

function describe(error: unknown): object {
  const e = error as { code?: string; exitCode?: number; message?: string; hint?: string };
  return { code: e.code, exitCode: e.exitCode, message: e.message ?? String(error), hint: e.hint };
}

// Commands run one at a time, in order.
let queue = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as Command;
  queue = queue.then(async () => {
    try {
      write({ type: 'ok', id: command.id, ...(await handle(command)) });
    } catch (error) {
      write({ type: 'fail', id: command.id, error: describe(error) });
    }
  });
});
process.stdin.on('end', () => {
  capture?.close();
  raw?.close();
  stopWatch?.();
});
write({ type: 'ready' });
