import { DEFAULT_VERIFY_TIMEOUT_MS, ExitCode, KnockError, type Knock } from '@knock/shared/core';
import type { AddressFamily } from '@knock/shared/node';
import type { CliDeps, Profile } from '../deps.js';
import { closedError, lookupProfile, noProfileError } from '../knock-flow.js';
import { reporter } from '../report.js';
import { knockForSession, startSession, type SessionRequest } from '../session.js';
import { knownHostsName, parseSshConfig } from '../ssh-config.js';

export interface SshOptions {
  sequence?: Knock[];
  timeout?: number;
  config?: string;
  verbose?: boolean;
  /** --keep-open; undefined: the profile's keep_open. */
  keepOpen?: boolean;
}

const sshFamily: Record<'any' | 'inet' | 'inet6', AddressFamily | undefined> = {
  any: undefined,
  inet: 'ipv4',
  inet6: 'ipv6',
};

/**
 * `knock ssh [--sequence SEQ] [ssh args…]`: asks ssh where it would go (`ssh -G`),
 * knocks that host, waits for its port, then runs ssh on the address that opened,
 * with HostKeyAlias keeping the known_hosts entry of the name.
 */
export async function runSsh(deps: CliDeps, args: string[], options: SshOptions): Promise<void> {
  if (args.length === 0)
    throw new KnockError(
      'knock.usage.sshArgs',
      'knock ssh needs the ssh arguments (at least the host)',
      {
        exitCode: ExitCode.usage,
        hint: 'knock ssh [user@]HOST [command], e.g. knock ssh -p 2222 me@ssh.maths.fr',
      },
    );
  const long = findLongOption(args);
  if (long !== undefined) {
    const name = long.split('=')[0] ?? long;
    const ours = KNOCK_SSH_OPTIONS.includes(name);
    throw new KnockError(
      'knock.usage.sshOption',
      ours
        ? `${name} must come before the ssh arguments (knock ssh ${name} ... HOST)`
        : `unknown option ${name} for knock ssh`,
      {
        exitCode: ExitCode.usage,
        hint: ours
          ? 'knock ssh takes its own options first; after them everything belongs to ssh'
          : `knock ssh's own options are ${KNOCK_SSH_OPTIONS.join(', ')}, before the ssh arguments; ssh itself has no long options`,
      },
    );
  }
  const verbose = options.verbose ? deps.stderr : undefined;
  const asked = await captureSsh(deps, ['-G', ...args]);
  const target = parseSshConfig(asked.stdout);
  if (asked.code !== 0 || target === undefined)
    throw new KnockError(
      'knock.ssh.config',
      `ssh -G ${args.join(' ')} failed: ${firstLine(asked.stderr) || `exit status ${asked.code}`}`,
      { exitCode: ExitCode.usage, hint: 'check the ssh arguments' },
    );
  if (target.proxy?.includes('knock proxy')) {
    // Its ProxyCommand knocks already: knocking here too would knock twice.
    verbose?.write(`knock: ${target.hostname} uses ${target.proxy}; running ssh as is\n`);
    deps.setExitCode(await execSsh(deps, args));
    return;
  }

  let profile: Profile | undefined;
  let profileFile: string | undefined;
  if (options.sequence === undefined) {
    const found = await lookupProfile(deps, target.hostname, options.config);
    profileFile = found.file.path;
    profile =
      found.profile ??
      (target.host !== undefined ? deps.findProfile(found.file.profiles, target.host) : undefined);
    if (profile === undefined)
      throw noProfileError(
        target.hostname,
        found.file,
        'give the ports: knock ssh --sequence 1228,1227 ...',
      );
  }
  const onEvent = reporter({ verbose, warn: deps.stderr });
  const request: SessionRequest = {
    host: target.hostname,
    profile,
    profileFile,
    knocks: options.sequence,
    family: sshFamily[target.addressFamily],
    flag: options.keepOpen,
    verbose,
  };
  const outcome = await knockForSession(deps, request, onEvent);
  const timeoutMs = options.timeout ?? profile?.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;
  const result = await deps.verifyOpen({
    addresses: outcome.addresses,
    port: target.port,
    timeoutMs,
    intervalMs: 200,
    onEvent,
  });
  if (result.state !== 'open')
    throw closedError(
      target.hostname,
      target.port,
      outcome.addresses,
      result,
      timeoutMs,
      outcome.hint,
    );

  // Dial the address that opened (not a fresh lookup that may pick another one);
  // known_hosts keeps matching the name. ssh takes the first value of an option,
  // and -o on the command line comes before every config file.
  const pinned = target.proxy
    ? []
    : [
        '-o',
        `HostName=${result.address}`,
        ...(target.hostKeyAlias === undefined
          ? ['-o', `HostKeyAlias=${knownHostsName(target.hostname, target.port)}`]
          : []),
      ];
  verbose?.write(`knock: running ssh ${[...pinned, ...args].join(' ')}\n`);
  const session = startSession(deps, request);
  let status: number;
  try {
    status = await execSsh(deps, [...pinned, ...args]);
  } finally {
    // ssh exited (or could not run): the session is over, the door closes with it.
    await session?.stop('ended');
  }
  deps.setExitCode(status);
}

/** knock ssh's own options (subcommands.ts declares them). */
const KNOCK_SSH_OPTIONS = [
  '--sequence',
  '--timeout',
  '--config',
  '--verbose',
  '--keep-open',
  '--help',
];

/** ssh's options that take a value (OpenSSH 9: ssh -B bind_interface ... -w tunnel). */
const SSH_VALUE_OPTIONS = new Set('BbcDEeFIiJLlmOoPpQRSWw');

/**
 * The first argument that ssh would read as an option and that starts with `--` (ssh has
 * no long options, so it would fail with "unknown option -- -"). ssh reads options, then
 * the destination, then options again, then the command; `--` ends its options.
 */
export function findLongOption(args: readonly string[]): string | undefined {
  let destination = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') return undefined;
    if (arg.startsWith('--')) return arg;
    if (arg.startsWith('-') && arg.length > 1) {
      // A cluster such as -vp2222 or -p 2222: the first option with a value takes the rest.
      for (let j = 1; j < arg.length; j++) {
        if (SSH_VALUE_OPTIONS.has(arg[j] ?? '')) {
          if (j === arg.length - 1) i++;
          break;
        }
      }
      continue;
    }
    if (destination) return undefined;
    destination = true;
  }
  return undefined;
}

const firstLine = (text: string) => text.trim().split('\n')[0] ?? '';

async function captureSsh(deps: CliDeps, args: string[]) {
  try {
    return await deps.capture('ssh', args);
  } catch (error) {
    throw sshMissing(error);
  }
}

async function execSsh(deps: CliDeps, args: string[]): Promise<number> {
  try {
    return await deps.runInteractive('ssh', args);
  } catch (error) {
    throw sshMissing(error);
  }
}

const sshMissing = (error: unknown) =>
  new KnockError(
    'knock.ssh.exec',
    `cannot run ssh: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found in PATH' : String(error)}`,
    {
      exitCode: ExitCode.exec,
      hint: 'install the OpenSSH client (apt install openssh-client)',
      cause: error,
    },
  );
