import { KnockError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

// The clients' clock, apart from the rotating derivation so that the command line can pass
// it to the knock flow without loading the derivation (a plain knock never needs it).

/**
 * The environment variable that moves the client's clock, in seconds (e.g. `-29`): for
 * tests, and for a machine whose clock is off and cannot be fixed right now.
 */
export const CLOCK_OFFSET_ENV = 'KNOCK_CLOCK_OFFSET';

/** The clock the clients use: the system's, moved by $KNOCK_CLOCK_OFFSET seconds. */
export function clientClock(env: NodeJS.ProcessEnv = process.env): () => number {
  const text = env[CLOCK_OFFSET_ENV];
  if (text === undefined || text.trim() === '') return Date.now;
  const seconds = Number(text);
  // Told when a rotating profile knocks (a tray app must not fail to start over it).
  if (!Number.isFinite(seconds))
    return () => {
      throw new KnockError(
        'knock.clockOffset',
        `${CLOCK_OFFSET_ENV}=${text} is not a number of seconds`,
        { exitCode: ExitCode.usage, hint: `unset it, or write e.g. ${CLOCK_OFFSET_ENV}=-30` },
      );
    };
  return () => Date.now() + seconds * 1000;
}
