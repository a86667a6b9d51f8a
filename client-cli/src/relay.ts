import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';

/**
 * Copies input → socket and socket → output until the connection is done, with
 * half-close both ways: the end of input sends FIN (the socket must allow half-open),
 * the peer's FIN ends output (which the caller opened so that ending it closes the
 * fd: ssh then sees EOF). pipe() does the copying and the backpressure: no per-chunk
 * work here. Resolves when the socket has closed; rejects on a socket error.
 */
export function relay(socket: Socket, input: Readable, output: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: Error | undefined;
    let peerEnded = false;
    socket.setNoDelay(true);
    input.pipe(socket);
    socket.pipe(output);
    // The reader of our output (ssh) is gone: nothing left to relay.
    output.on('error', () => socket.destroy());
    input.on('error', () => socket.end());
    socket.on('end', () => (peerEnded = true));
    // After the peer's FIN, a reset only means it closed completely while input was
    // still arriving: the session is over either way, not a failure.
    socket.on('error', (error) => {
      if (!peerEnded) failed = error;
    });
    socket.on('close', () => {
      input.unpipe(socket);
      // Stop reading: the process can exit even though ssh keeps our stdin open.
      input.destroy();
      if (!output.writableEnded) output.end();
      if (failed) reject(failed);
      else resolve();
    });
  });
}
