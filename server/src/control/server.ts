/**
 * The daemon's control socket: a Unix socket (mode 0600, so only root can connect),
 * never a network port. One request line in, one response line out, then the daemon
 * closes the connection (protocol.ts).
 *
 * Built to stay out of the capture loop's way whatever the clients do:
 * - responses are rendered at most once per `cacheMs` per command, however many
 *   clients poll;
 * - a request must arrive within `requestTimeoutMs` and fit in MAX_REQUEST_BYTES
 *   (garbage and half-written requests get an error or a timeout, and are closed);
 * - a client that never reads its response is dropped after `lingerMs`, and at most
 *   `maxConnections` are served at once (the kernel queues the rest);
 * - nothing a client sends can throw out of here.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { ExitCode, KnockError } from '@knock/shared';
import { MAX_REQUEST_BYTES, parseRequest, type ControlCommand, type Response } from './protocol.js';

export interface ControlHandlers {
  status(): Response;
  metrics(): Promise<Response>;
}

export interface ControlServerOptions {
  path: string;
  handlers: ControlHandlers;
  /** Reuse a rendered response this long (ms). Default 100. */
  cacheMs?: number;
  /** A connection that has not sent a whole request by then is closed. Default 2000. */
  requestTimeoutMs?: number;
  /** A response not read by then is dropped with its connection. Default 5000. */
  lingerMs?: number;
  /** Connections served at once. Default 256. */
  maxConnections?: number;
}

export interface ControlServer {
  readonly path: string;
  /** Connections open now (tests). */
  readonly connections: number;
  close(): Promise<void>;
}

/** Throws a KnockError when another live process listens on `path`. */
async function clearStale(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket)
    throw new KnockError(
      'control.notSocket',
      `${path} exists and is not a socket: the control socket cannot be created there`,
      {
        exitCode: ExitCode.config,
        hint: 'remove it, or set Control_Socket = PATH (or none) in [options]',
      },
    );
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive)
    throw new KnockError(
      'control.inUse',
      `another process (another knock-server?) listens on the control socket ${path}`,
      {
        exitCode: ExitCode.alreadyRunning,
        hint: 'give each knock-server its own Control_Socket = PATH in [options]',
      },
    );
  unlinkSync(path); // left behind by a daemon that was killed
}

export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const path = options.path;
  const cacheMs = options.cacheMs ?? 100;
  const requestTimeoutMs = options.requestTimeoutMs ?? 2000;
  const lingerMs = options.lingerMs ?? 5000;
  await clearStale(path);

  const cache = new Map<ControlCommand, { at: number; line: Promise<string> }>();
  const respond = (cmd: ControlCommand): Promise<string> => {
    const now = Date.now();
    const hit = cache.get(cmd);
    if (hit !== undefined && now - hit.at < cacheMs) return hit.line;
    const line = (async () => {
      let response: Response;
      try {
        response = cmd === 'status' ? options.handlers.status() : await options.handlers.metrics();
      } catch (error) {
        response = {
          ok: false,
          error: `internal error: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
      return `${JSON.stringify(response)}\n`;
    })();
    cache.set(cmd, { at: now, line });
    return line;
  };

  const sockets = new Set<Socket>();
  const finish = (socket: Socket, line: string): void => {
    socket.setTimeout(lingerMs); // the response must be taken within lingerMs
    socket.end(line);
  };
  const serve = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(requestTimeoutMs, () => socket.destroy());
    let received = '';
    let answered = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (answered) return;
      received += chunk;
      const end = received.indexOf('\n');
      if (end < 0 && received.length <= MAX_REQUEST_BYTES) return;
      answered = true;
      socket.pause();
      if (end < 0 || end > MAX_REQUEST_BYTES) {
        finish(
          socket,
          `${JSON.stringify({ ok: false, error: `request longer than ${MAX_REQUEST_BYTES} bytes` })}\n`,
        );
        return;
      }
      const request = parseRequest(received.slice(0, end).replace(/\r$/, ''));
      if (!request.ok) {
        finish(socket, `${JSON.stringify({ ok: false, error: request.error })}\n`);
        return;
      }
      void respond(request.cmd).then((line) => {
        if (!socket.destroyed) finish(socket, line);
      });
    });
    socket.on('end', () => {
      // The client closed its side before a whole request: nothing to answer.
      if (!answered) socket.destroy();
    });
  };

  const server: Server = createServer({ allowHalfOpen: true }, serve);
  server.maxConnections = options.maxConnections ?? 256;
  // The socket file is created 0600 (umask), so no other user can connect even for a moment.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new KnockError(
      'control.listen',
      `cannot create the control socket ${path}: ${(error as Error).message}`,
      {
        exitCode: ExitCode.failure,
        hint: 'check that its directory exists and is writable, or set Control_Socket = PATH (or none)',
        cause: error,
      },
    );
  } finally {
    process.umask(umask);
  }
  chmodSync(path, 0o600);
  const inode = lstatSync(path).ino;
  server.on('error', () => undefined);
  // The control socket never keeps the daemon alive by itself.
  server.unref();

  return {
    path,
    get connections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
        try {
          // Only our own socket file: a newer daemon may have taken the path over.
          if (lstatSync(path).ino === inode) unlinkSync(path);
        } catch {
          // already gone
        }
      }),
  };
}
