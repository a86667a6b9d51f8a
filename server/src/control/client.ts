/**
 * Asks a running daemon over its control socket (protocol.ts). Every failure is a
 * KnockError that says what to do: no daemon, not root, a daemon that does not answer.
 */
import { createConnection } from 'node:net';
import { ExitCode, KnockError } from '@knock/shared';
import type { ControlCommand, Response } from './protocol.js';

/** Longest response read (a status with thousands of doors is well under it). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export function connectError(path: string, error: NodeJS.ErrnoException): KnockError {
  switch (error.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new KnockError(
        'control.noDaemon',
        `no knock-server is running with the control socket ${path} (${error.code === 'ENOENT' ? 'it does not exist' : 'nobody listens on it'})`,
        {
          exitCode: ExitCode.failure,
          hint: 'start it (systemctl start knock-server), or name its socket: --socket PATH, or -c CONFIG to read Control_Socket from it',
        },
      );
    case 'EACCES':
    case 'EPERM':
      return new KnockError(
        'control.permission',
        `no permission to use the control socket ${path} (it is root's only)`,
        { exitCode: ExitCode.permission, hint: 'run it as root (sudo knock-server status)' },
      );
    default:
      return new KnockError(
        'control.connect',
        `cannot reach knock-server at ${path}: ${error.message}`,
        { exitCode: ExitCode.failure },
      );
  }
}

/** Sends one request and returns the daemon's response. */
export function request(
  path: string,
  cmd: ControlCommand,
  options: { timeoutMs?: number } = {},
): Promise<Response> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (error: KnockError) => {
      if (done) return;
      done = true;
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () =>
      fail(
        new KnockError(
          'control.timeout',
          `knock-server did not answer on ${path} within ${timeoutMs / 1000} s`,
          {
            exitCode: ExitCode.failure,
            hint: 'it may be stuck: see its log; systemctl restart knock-server restarts it',
          },
        ),
      ),
    );
    socket.on('connect', () => socket.write(`${JSON.stringify({ cmd })}\n`));
    socket.on('error', (error: NodeJS.ErrnoException) => fail(connectError(path, error)));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES)
        fail(new KnockError('control.tooLong', `the response on ${path} is too long`));
      else chunks.push(chunk);
    });
    socket.on('end', () => {
      if (done) return;
      const text = Buffer.concat(chunks).toString('utf8');
      const line = text.slice(0, text.indexOf('\n') >= 0 ? text.indexOf('\n') : undefined);
      let response: Response;
      try {
        response = JSON.parse(line) as Response;
      } catch {
        fail(
          new KnockError(
            'control.badResponse',
            `${path} answered something that is not a knock-server response${line === '' ? ' (nothing)' : ''}`,
            { hint: 'is this the socket of a knock-server of the same version?' },
          ),
        );
        return;
      }
      done = true;
      socket.destroy();
      resolve(response);
    });
  });
}
