/**
 * The real implementations of the daemon's injected dependencies (deps.ts): libpcap capture, the interface
 * watcher, the command runner process, the firewall backends, one-time-sequence files.
 * Only bin/knock-server.ts calls this.
 */
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { ExitCode, KnockError } from '@knock/shared';
import { consumeOneTimeSequence, readOneTimeSequences } from '@knock/shared/node';
import { startCommandRunner } from '../actions/command-runner.js';
import { releaseMemory } from '../capture/cap-module.js';
import { openCapture } from '../capture/cap-source.js';
import { buildFilter } from '../capture/filter.js';
import { defaultInterface, localAddresses, watchAddresses } from '../capture/interfaces.js';
import { createFirewall, detectFirewall, loadTrusted } from '../firewall/index.js';
import { attachCluster, openClusterForDaemon } from '../cluster/daemon.js';
import { DaemonActions } from './daemon-actions.js';
import { warmUpPacketPath } from './warm-up.js';
import type { ServerDeps } from './run.js';

/** The version in server/package.json (../../ from src/daemon and from dist/daemon alike). */
export function serverVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

let warmedUp = false;

/** The packet path, optimized by the JIT before the first capture opens (warm-up.ts). */
function warmUp(): boolean {
  if (warmedUp) return false;
  warmedUp = true;
  warmUpPacketPath();
  return true;
}

let heapTuned = false;
/** The young generation (both semi-spaces) may grow to this size, no further. */
const YOUNG_GENERATION_CAP = 8 * 1024 * 1024;

/**
 * Caps V8's young generation at 8 MiB. A flood allocates a few hundred bytes per
 * packet, almost all dead by the next scavenge, yet V8 keeps doubling the young
 * generation up to 2 × 16 MiB, which then stays resident; at its initial 2 MiB,
 * scavenges come so often that they cost a tenth of the packet path. The growth
 * factor is read at each growth, so setting it to 1 at run time, once the young
 * generation has reached the cap, stops it there.
 */
function tuneHeap(): void {
  if (heapTuned) return;
  heapTuned = true;
  const check = setInterval(() => {
    const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    if (young === undefined || young.space_size >= YOUNG_GENERATION_CAP) {
      setFlagsFromString('--semi-space-growth-factor=1');
      clearInterval(check);
    }
  }, 250);
  check.unref();
}

/**
 * `KNOCK_SERVER_SYSLOG_SOCKET` names another syslog socket than /dev/log (a container
 * whose syslog listens elsewhere; the tests' own listener). `captureBufferMiB`
 * (`--capture-buffer`) sizes the kernel's capture ring; default 8 MiB (cap-source.ts).
 */
export function systemDeps(
  env: NodeJS.ProcessEnv = process.env,
  captureBufferMiB?: number,
): Promise<ServerDeps> {
  const syslogSocket = env.KNOCK_SERVER_SYSLOG_SOCKET;
  const ring = captureBufferMiB === undefined ? {} : { bufferSize: captureBufferMiB * 1024 * 1024 };
  return Promise.resolve({
    ...(syslogSocket ? { syslogSocket } : {}),
    capture: {
      buildFilter: (doors, local, options) => buildFilter(doors, local, options),
      open: async (options) => {
        tuneHeap();
        const first = warmUp();
        const capture = await openCapture({ ...options, ...ring });
        // What the warm-up allocated goes back now, not at the first flood.
        if (first) releaseMemory();
        return capture;
      },
      localAddresses: (interfaces, options) => localAddresses(interfaces, options),
      watchAddresses: (interfaces, onChange) => watchAddresses(interfaces, onChange),
      releaseMemory: () => releaseMemory(),
    },
    ots: {
      read: (path) => readOneTimeSequences(path),
      consume: (path, knocks) => consumeOneTimeSequence(path, [...knocks]),
    },
    startOperations: async (deps) => {
      const { startOperations } = await import('../control/operations.js');
      return startOperations({ ...deps, version: serverVersion() });
    },
    defaultInterface: () => {
      const name = defaultInterface();
      if (name !== undefined) return Promise.resolve(name);
      return Promise.reject(
        new KnockError(
          'capture.noDefaultRoute',
          'no interface carries a default route, and none was named',
          {
            exitCode: ExitCode.capture,
            hint: 'name the interface to watch: -i eth0 (or Interface = eth0 in [options])',
          },
        ),
      );
    },
    openCluster: (config, log) => openClusterForDaemon(config, log, serverVersion()),
    createActions: async (config, log, stats, cluster) => {
      const runner = await startCommandRunner({
        onEvent: (message) => log.error('command', message),
      });
      const actions = new DaemonActions({
        runner,
        log,
        stats,
        firewall: (kind) => attachCluster(createFirewall(kind), cluster),
        detectFirewall: () => detectFirewall(),
        loadTrusted: (path) => loadTrusted(path),
      });
      try {
        await actions.start(config);
      } catch (error) {
        await runner.close();
        throw error;
      }
      return actions;
    },
  });
}
