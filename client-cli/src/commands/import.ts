import { dirname, join } from 'node:path';
import {
  ExitCode,
  KnockError,
  findProfile,
  parseKnockUri,
  parseSecret,
  type Profile,
} from '@knock/shared';
import type { CliDeps } from '../deps.js';

export interface ImportOptions {
  config?: string;
  /** Replace a profile that exists for the host. */
  force?: boolean;
  /** Keep the secret in the profile file instead of a file of its own. */
  inline?: boolean;
}

/**
 * `knock import URI`: the `knock://` URI that `knock-server secret new` prints becomes a
 * profile. The secret goes to its own file next to the profile file (mode 0600), which
 * the profile names (secret_file). The profile is written by the format-preserving
 * profile editor, atomically and under the file's lock: the rest of the file is untouched.
 */
export async function runImport(
  deps: CliDeps,
  text: string,
  options: ImportOptions,
): Promise<void> {
  const parsed = parseKnockUri(text);
  if (!parsed.uri)
    throw new KnockError('knock.import.uri', `knock import: ${parsed.problem ?? 'invalid URI'}`, {
      exitCode: ExitCode.usage,
      hint: 'copy the whole knock://HOST?door=…&secret=… line that knock-server secret new printed (quote it for the shell)',
    });
  const { host, rotating, port } = parsed.uri;
  const { secretFileText } = await import('@knock/shared/node');
  const file = await deps.loadProfiles(
    options.config === undefined ? { env: deps.env } : { path: options.config, env: deps.env },
  );
  const existing = findProfile(file.profiles, host);
  if (existing && !options.force)
    throw new KnockError(
      'knock.import.exists',
      `a profile for "${existing.host}" exists in ${file.path}`,
      {
        exitCode: ExitCode.usage,
        hint: 'replace it with knock import --force URI',
      },
    );
  const profile: Profile = {
    host,
    family: existing?.family ?? 'any',
    delayMs: existing?.delayMs ?? 0,
    rotating: { ...rotating },
  };
  if (port !== undefined) profile.port = port;
  else if (existing?.port !== undefined) profile.port = existing.port;
  if (existing?.verifyTimeoutMs !== undefined) profile.verifyTimeoutMs = existing.verifyTimeoutMs;
  if (!options.inline) {
    const secretPath = join(
      dirname(file.path),
      `${host.replace(/[^A-Za-z0-9._-]/g, '_')}-${rotating.door.replace(/[^A-Za-z0-9._-]/g, '_')}.secret`,
    );
    await deps.writeSecretFile(
      secretPath,
      secretFileText(
        parseSecret(rotating.secret).secret ?? new Uint8Array(),
        `knock rotating secret: host ${host}, door ${rotating.door}`,
      ),
    );
    delete profile.rotating?.secret;
    if (profile.rotating) profile.rotating.secretFile = secretPath;
  }
  // The one profile editor (as the TUI and the tray): only this profile's lines change;
  // comments, order and the other profiles stay as they are. Under the file's lock.
  await deps.updateProfile(
    file.path,
    {
      type: 'put',
      original: existing?.host ?? null,
      profile,
      ...(existing ? { previous: existing } : {}),
    },
    deps.env,
  );
  deps.stdout.write(
    `${existing ? 'replaced' : 'added'} the profile for ${host} in ${file.path} (rotating door ${rotating.door}${
      options.inline ? '' : `, secret in ${profile.rotating?.secretFile ?? ''}`
    })\nknock it with: knock ${port !== undefined ? '--verify ' : ''}${host}\n`,
  );
}
