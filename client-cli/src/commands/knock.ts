import { DEFAULT_VERIFY_TIMEOUT_MS, ExitCode, KnockError, formatSeconds } from '@knock/shared/core';
import type { AddressFamily } from '@knock/shared/node';
import type { CliDeps, Profile } from '../deps.js';
import {
  closedError,
  knock,
  loadProfileFile,
  lookupProfile,
  noProfileError,
} from '../knock-flow.js';
import { checkHost, parsePort, parsePortSpec, resolvePortSpecs, type PortSpec } from '../args.js';
import { lookupService } from '../services.js';
import { reporter } from '../report.js';

export interface KnockOptions {
  udp?: boolean;
  delay?: number;
  ipv4?: boolean;
  ipv6?: boolean;
  verbose?: boolean;
  verify?: boolean | string;
  timeout?: number;
  config?: string;
}

export function familyOf(options: { ipv4?: boolean; ipv6?: boolean }): AddressFamily | undefined {
  return options.ipv4 ? 'ipv4' : options.ipv6 ? 'ipv6' : undefined;
}

/**
 * The root command: knockd's `knock [-u] [-d MS] [-4|-6] [-v] HOST PORT[:PROTO]…`, and
 * `knock HOST` with a profile; no HOST in a terminal opens the UI. The options as
 * commander parsed them (program.ts), or none for a plain `knock HOST PORT…` (cli.ts).
 */
export async function runKnock(
  deps: CliDeps,
  host: string | undefined,
  ports: string[],
  options: KnockOptions,
): Promise<void> {
  // `--verify HOST PORT…`: commander gave HOST to --verify's optional value. A verify
  // port is a number or a service name (`--verify ssh HOST`); anything else there, or a
  // value followed by no host (or by a port where the host should be), is the host:
  // shift it back.
  if (typeof options.verify === 'string' && !/^\d+$/.test(options.verify)) {
    const isService =
      host !== undefined &&
      !/^\d+(:\w*)?$/.test(host) &&
      (await serviceLookup(deps))(options.verify) !== undefined;
    if (!isService) {
      if (host !== undefined) ports = [host, ...ports];
      host = options.verify;
      options.verify = true;
    }
  }
  if (host === undefined) {
    if (deps.isInteractive) {
      await (await import('./ui.js')).runUi(deps, options.config);
      return;
    }
    throw new KnockError('knock.usage.noHost', 'no host given', {
      exitCode: ExitCode.usage,
      hint: 'knock HOST PORT[:PROTO]... (or knock HOST for a profile); see knock --help',
    });
  }
  await knockCommand(deps, checkHost(host), ports, options);
}

/** A TCP service name's port from /etc/services (undefined: unknown, or no such file). */
async function serviceLookup(deps: CliDeps): Promise<(name: string) => number | undefined> {
  const { table } = await deps.services();
  return (name) => (table ? lookupService(table, name, 'tcp') : undefined);
}

/** --verify's value: a port number, or a service name such as ssh (probed over TCP). */
async function verifyPortOf(deps: CliDeps, text: string): Promise<number> {
  if (/^\d+$/.test(text)) return parsePort(text, '--verify');
  const port = /^[A-Za-z][\w.+-]*$/.test(text) ? (await serviceLookup(deps))(text) : undefined;
  if (port === undefined)
    throw new KnockError(
      'knock.usage.verifyPort',
      `--verify: "${text}" is not a port from 1 to 65535 or a TCP service name`,
      { exitCode: ExitCode.usage, hint: 'write --verify=22 or --verify=ssh' },
    );
  return port;
}

async function knockCommand(
  deps: CliDeps,
  host: string,
  ports: string[],
  options: KnockOptions,
): Promise<void> {
  // Every argument is checked before the first packet leaves.
  const specs: PortSpec[] = ports.map((p) => parsePortSpec(p, options.udp === true));
  let knocks;
  if (specs.some((s) => typeof s.port === 'string')) {
    const { file, table } = await deps.services();
    knocks = resolvePortSpecs(specs, table, file);
  } else knocks = resolvePortSpecs(specs, undefined, '');
  const verifyPort =
    typeof options.verify === 'string' ? await verifyPortOf(deps, options.verify) : undefined;

  // The profile is read only when it is needed, so a broken profile file never
  // breaks a knockd-style `knock HOST PORT…`.
  const needsProfile = knocks.length === 0 || (options.verify === true && verifyPort === undefined);
  let profile: Profile | undefined;
  let profileFile: string | undefined;
  if (needsProfile) {
    const found = await lookupProfile(deps, host, options.config);
    profile = found.profile;
    profileFile = found.file.path;
    if (profile === undefined) {
      throw knocks.length === 0
        ? noProfileError(host, found.file, `give the ports: knock ${host} PORT...`)
        : new KnockError('knock.usage.verifyPort', `--verify needs a port for "${host}"`, {
            exitCode: ExitCode.usage,
            hint: `write --verify=PORT (there is no profile for "${host}" in ${found.file.path})`,
          });
    }
  } else if (options.config !== undefined) {
    // Not needed, but named: a -c FILE that does not exist (or is broken) is still an error.
    await loadProfileFile(deps, options.config);
  }
  const port = verifyPort ?? (options.verify ? profile?.port : undefined);
  if (options.verify && port === undefined) {
    throw new KnockError('knock.usage.verifyPort', `--verify needs a port for "${host}"`, {
      exitCode: ExitCode.usage,
      hint: 'write --verify=PORT, or add port = 22 to the profile',
    });
  }

  const family = familyOf(options);
  const onEvent = reporter({
    verbose: options.verbose ? deps.stdout : undefined,
    warn: deps.stderr,
  });
  const outcome = await knock(deps, {
    host,
    ...(knocks.length > 0 ? { knocks } : {}),
    ...(profile ? { profile } : {}),
    ...(profileFile !== undefined ? { profileFile } : {}),
    lockNotice: deps.stderr,
    allUdp: options.udp === true,
    ...(family ? { family } : {}),
    ...(options.delay !== undefined ? { delayMs: options.delay } : {}),
    onEvent,
  });
  if (outcome.oneTime?.remaining === 0) {
    deps.stderr.write(
      `knock: warning: that was the last unused sequence in ${outcome.oneTime.file}; generate new ones (knock ots generate)\n`,
    );
  }
  if (port === undefined) return;

  const timeoutMs = options.timeout ?? profile?.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;
  const result = await deps.verifyOpen({
    addresses: outcome.addresses,
    port,
    timeoutMs,
    intervalMs: 200,
    onEvent,
  });
  if (result.state !== 'open')
    throw closedError(host, port, outcome.addresses, result, timeoutMs, outcome.hint);
  if (!options.verbose)
    deps.stdout.write(
      `port ${port} is open on ${result.address} (after ${formatSeconds(result.elapsedMs)})\n`,
    );
}
