import { spawn } from 'node:child_process';
import { constants as fsConstants, fstatSync, readFileSync } from 'node:fs';
import { lstat, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, KnockError, findProfile } from '@knock/shared/core';
import type { CliDeps, TuiModule } from './deps.js';
import { interactiveSignals, programFor } from './platform.js';
import { loadServices, servicesFile } from './services.js';

// Loaded on first use only: a plain knock needs the sockets (@knock/shared/net), not the
// files, locks and profiles of @knock/shared/node.
const net = () => import('@knock/shared/net');
const shared = () => import('@knock/shared/node');

function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A pipe or socket on `fd` (what ssh gives a ProxyCommand), rather than a terminal or file. */
function isStream(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

/** The real effects, bound by bin/knock.ts. */
export function nodeDeps(): CliDeps {
  return {
    // Getters: a plain knock needs neither (the version is read for --version and --help;
    // reading process.stdin sets up a stream).
    get version() {
      return packageVersion();
    },
    env: process.env,
    stdout: { write: (text) => process.stdout.write(text) },
    stderr: { write: (text) => process.stderr.write(text) },
    get isInteractive() {
      return process.stdin.isTTY === true && process.stdout.isTTY === true;
    },
    setExitCode: (code) => {
      process.exitCode = code;
    },
    services: () =>
      loadServices(servicesFile(process.platform, process.env), (path) => readFile(path, 'utf8')),
    resolveTargets: async (host, family) => (await net()).resolveTargets(host, family),
    sendKnocks: async (options) => (await net()).sendKnocks(options),
    verifyOpen: async (options) => (await net()).verifyOpen(options),
    loadProfiles: async (options) => (await shared()).loadProfiles(options),
    checkProfiles: async (options) => (await shared()).checkProfileFile(options),
    findProfile,
    takeOneTimeSequence: async (path, use, options) =>
      (await shared()).takeOneTimeSequence(path, use, options),
    updateProfile: async (path, change, env) => {
      await (await shared()).createProfileStore(path, { env }).update(change);
    },
    writeSecretFile: async (path, text) => {
      const { mkdir } = await import('node:fs/promises');
      const { dirname } = await import('node:path');
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await (await shared()).writeFileAtomic(path, text, { mode: 0o600 });
    },
    generateOtsFile: async (file, options) => {
      const { force, ...generate } = options;
      const { generateOts } = await import('@knock/shared');
      const text = generateOts(generate);
      await writeNewFile(file, text, force === true);
    },
    capture: (command, args) =>
      new Promise((resolve, reject) => {
        const child = spawn(programFor(command, process.platform), args, {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      }),
    runInteractive: (command, args) =>
      new Promise((resolve, reject) => {
        const child = spawn(programFor(command, process.platform), args, { stdio: 'inherit' });
        // The terminal's Ctrl-C / Ctrl-\ reach ssh directly (same process group): we
        // ignore them and wait for ssh. Signals sent to us alone are passed on.
        const ignore = () => undefined;
        const forward = (signal: NodeJS.Signals) => child.kill(signal);
        const listeners = interactiveSignals(process.platform).map(
          ([signal, action]) => [signal, action === 'ignore' ? ignore : forward] as const,
        );
        for (const [signal, listener] of listeners) process.on(signal, listener);
        const done = () => {
          for (const [signal, listener] of listeners) process.off(signal, listener);
        };
        child.on('error', (error) => {
          done();
          reject(error);
        });
        child.on('exit', (code, signal) => {
          done();
          // Like a shell: death by signal N is status 128+N.
          resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
        });
      }),
    relayStreams: () => ({
      input: isStream(0)
        ? new Socket({ fd: 0, readable: true, writable: false, allowHalfOpen: true })
        : process.stdin,
      output: isStream(1) ? new Socket({ fd: 1, readable: false, writable: true }) : process.stdout,
    }),
    withKnockLock: async (host, fn) => {
      const dir = await knockLockDir();
      if (dir === undefined) return fn();
      const { withFileLock } = await shared();
      return withFileLock(join(dir, encodeURIComponent(host.toLowerCase())), fn, {
        timeoutMs: 15_000,
      });
    },
    onSignals: (signals, handler) => {
      for (const signal of signals) process.on(signal, handler);
      return () => {
        for (const signal of signals) process.off(signal, handler);
      };
    },
    loadTui: () => {
      // A variable specifier: the TUI is optional at build time.
      const entry = './ui/run.js';
      return import(entry) as Promise<TuiModule>;
    },
  };
}

/**
 * This user's directory for knock's per-host locks: $XDG_RUNTIME_DIR/knock, else
 * TMPDIR/knock-UID; created 0700. undefined (no lock) when it is not ours or not a
 * directory: a lock must never stop a knock.
 */
async function knockLockDir(): Promise<string | undefined> {
  const uid = process.getuid?.();
  const runtime = process.env.XDG_RUNTIME_DIR;
  const dir = runtime ? join(runtime, 'knock') : join(tmpdir(), `knock-${uid ?? 'user'}`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const info = await lstat(dir);
    if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/** Writes `text` to a temp file and renames it into place; refuses to replace `file` unless `force`. */
async function writeNewFile(file: string, text: string, force: boolean): Promise<void> {
  if (!force) {
    const exists = await open(file, fsConstants.O_RDONLY).then(
      async (handle) => {
        await handle.close();
        return true;
      },
      () => false,
    );
    if (exists)
      throw new KnockError('knock.ots.exists', `${file} already exists`, {
        exitCode: ExitCode.otsFile,
        hint: 'choose another file name, or add --force to replace it (its unused sequences are lost)',
      });
  }
  const temp = `${file}.${process.pid}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const { fsReason } = await shared();
    throw new KnockError('knock.ots.write', `cannot write ${file}: ${fsReason(error)}`, {
      exitCode: ExitCode.otsFile,
      hint: 'choose a file in a folder that exists and that you can write to',
      cause: error,
    });
  }
}
