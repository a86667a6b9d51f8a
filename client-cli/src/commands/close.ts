import { ExitCode, KnockError } from '@knock/shared/core';
import type { CliDeps } from '../deps.js';
import { knock, lookupProfile, noProfileError } from '../knock-flow.js';
import { checkHost } from '../args.js';
import { reporter } from '../report.js';
import { showSequence } from '../session.js';
import { familyOf } from './knock.js';

export interface CloseOptions {
  config?: string;
  verbose?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
}

/** `knock close HOST`: knocks the close_sequence of HOST's profile (every address it has). */
export async function runClose(deps: CliDeps, host: string, options: CloseOptions): Promise<void> {
  checkHost(host, 'knock close: HOST');
  const verbose = options.verbose ? deps.stderr : undefined;
  const found = await lookupProfile(deps, host, options.config);
  const profile = found.profile;
  if (profile === undefined)
    throw noProfileError(host, found.file, 'knock the close ports by hand: knock HOST PORT...');
  const closeSequence = profile.closeSequence;
  if (closeSequence === undefined)
    throw new KnockError(
      'knock.close.noSequence',
      `the profile for "${profile.host}" in ${found.file.path} has no close_sequence`,
      {
        exitCode: ExitCode.config,
        hint: 'add close_sequence = "PORT,PORT" (the Sequence of a server door with Revoke = ...), or knock the ports by hand: knock HOST PORT...',
      },
    );
  const family = familyOf(options) ?? profile.family;
  const sent = await knock(deps, {
    host: profile.host,
    profile,
    knocks: closeSequence,
    family,
    serialize: true,
    onEvent: reporter({ verbose, warn: deps.stderr }),
  });
  verbose?.write(
    `knock: knocked the close sequence ${showSequence(closeSequence)} of ${profile.host} (${sent.addresses.join(', ')})\n`,
  );
}
