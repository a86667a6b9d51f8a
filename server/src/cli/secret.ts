/**
 * `knock-server secret new DOOR` and `knock-server secret rotate DOOR`: a secret for a
 * rotating door, written to a file readable by root only, and everything needed to use
 * it: the door's knockd.conf lines, the client's profile lines, a `knock://` URI for
 * `knock import` and the same URI as a QR code for a phone.
 *
 * The QR code comes from uqr (unjs): no dependencies, ESM, typed, renders to Unicode
 * half blocks that any terminal shows; it is loaded only by this command.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { link, mkdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  ExitCode,
  KnockError,
  checkRotating,
  formatKnockUri,
  formatSecret,
  parsePortRange,
  profileTable,
  ROTATING_DEFAULTS,
  ROTATING_LENGTH,
  ROTATING_STEP,
  rotatingProfileLines,
  tomlString,
  type ProfileRotating,
  type RotatingProtocols,
} from '@knock/shared';
import { readSecretFile, secretFileText, writeFileAtomic } from '@knock/shared/node';
import { wholeNumber } from './option-values.js';

export interface SecretDeps {
  stdout: (text: string) => void;
  /** Random bytes (crypto.randomBytes); injected so tests are deterministic. */
  randomBytes?: (size: number) => Uint8Array;
  /** The clock for the grace period of `rotate` (ms). */
  now?: () => number;
}

/** 160 bits, the size RFC 4226 recommends for HOTP secrets. */
export const SECRET_BYTES = 20;
export const DEFAULT_SECRET_DIR = '/etc/knock-server';
const DEFAULT_GRACE_HOURS = 24;

interface SecretOptions {
  file?: string;
  length: number;
  step: number;
  ports: { low: number; high: number };
  protocols: RotatingProtocols;
  host?: string;
  port?: number;
  force?: boolean;
  qr: boolean;
  grace: number;
}

const portRange = (value: string) => {
  const r = parsePortRange(value);
  if (r.low === undefined || r.high === undefined)
    throw new InvalidArgumentError(r.problem ?? 'not a port range');
  return { low: r.low, high: r.high };
};

const doorName = (name: string): string => {
  if (name === '' || /[\]\n\r]/.test(name) || name !== name.trim())
    throw new KnockError('secret.door', `"${name}" cannot be a door name in knockd.conf`, {
      exitCode: ExitCode.usage,
      hint: 'use the name between the brackets of the door, e.g. ssh for [ssh]',
    });
  return name;
};

function addOptions(command: Command, rotate: boolean): Command {
  return command
    .argument('<door>', "the door's name in knockd.conf ([ssh] → ssh): part of the derivation")
    .option(
      '--file <path>',
      `the secret file (default ${DEFAULT_SECRET_DIR}/DOOR.secret)${rotate ? '; the old one moves to PATH.previous' : ''}`,
    )
    .option(
      '--length <n>',
      `knocks per sequence (default ${ROTATING_DEFAULTS.length})`,
      wholeNumber('--length', ROTATING_LENGTH.min, ROTATING_LENGTH.max),
      ROTATING_DEFAULTS.length,
    )
    .option(
      '--step <seconds>',
      `seconds each sequence lasts (default ${ROTATING_DEFAULTS.step})`,
      wholeNumber('--step', ROTATING_STEP.min, ROTATING_STEP.max),
      ROTATING_DEFAULTS.step,
    )
    .option(
      '--ports <low-high>',
      `the ports knocks are drawn from (default ${ROTATING_DEFAULTS.low}-${ROTATING_DEFAULTS.high})`,
      portRange,
      { low: ROTATING_DEFAULTS.low, high: ROTATING_DEFAULTS.high },
    )
    .addOption(
      new Option('--protocols <p>', 'tcp, udp or mixed knocks')
        .choices(['tcp', 'udp', 'mixed'])
        .default(ROTATING_DEFAULTS.protocols),
    )
    .option(
      '--host <name>',
      'the name clients knock (for the profile lines, the URI and the QR code)',
    )
    .option(
      '--port <port>',
      'the port the door opens (Open_Ports; clients probe it)',
      wholeNumber('--port', 1, 65535),
    )
    .option('--no-qr', 'do not print the QR code')
    .allowExcessArguments(false);
}

export function secretCommand(deps: SecretDeps): Command {
  const secret = new Command('secret').description(
    'secrets of rotating doors (sequences derived from a shared secret and the clock)',
  );
  secret.addCommand(
    addOptions(
      new Command('new').description(
        'write a new secret file (mode 0600) and print the door lines for knockd.conf, the client profile lines and a knock:// URI (and QR code) for knock import',
      ),
      false,
    )
      .option('--force', 'replace an existing secret file')
      .action(async (door: string, options: SecretOptions) => {
        await runSecret(deps, doorName(door), options, false);
      }),
  );
  secret.addCommand(
    addOptions(
      new Command('rotate').description(
        "replace a door's secret without downtime: the old file moves to FILE.previous and stays accepted for the grace period (Sequence_Secret_Previous_File/_Until)",
      ),
      true,
    )
      .option(
        '--grace <hours>',
        `how long the old secret keeps working (default ${DEFAULT_GRACE_HOURS})`,
        wholeNumber('--grace', 0, 24 * 365),
        DEFAULT_GRACE_HOURS,
      )
      .action(async (door: string, options: SecretOptions) => {
        await runSecret(deps, doorName(door), options, true);
      }),
  );
  return secret;
}

async function runSecret(
  deps: SecretDeps,
  door: string,
  options: SecretOptions,
  rotate: boolean,
): Promise<void> {
  const path = options.file ?? join(DEFAULT_SECRET_DIR, `${door}.secret`);
  const settings = {
    length: options.length,
    step: options.step,
    low: options.ports.low,
    high: options.ports.high,
  };
  const problems = checkRotating(settings, {
    length: '--length',
    step: '--step',
    ports: '--ports',
  });
  if (problems.length > 0)
    throw new KnockError('secret.settings', problems.join('; '), { exitCode: ExitCode.usage });
  const secret = (deps.randomBytes ?? cryptoRandomBytes)(SECRET_BYTES);
  const previous = `${path}.previous`;
  const comment = `knock-server rotating secret for door [${door}]: keep it private (mode 0600)`;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  if (rotate) {
    const old = await readSecretFile(path);
    if (!old.secret)
      throw new KnockError('secret.rotate', `cannot rotate ${path}: it ${old.problem ?? ''}`, {
        exitCode: ExitCode.failure,
        hint: old.hint ?? 'make a first secret with knock-server secret new DOOR',
      });
    // Old first, then the new one: a crash between leaves the old secret in use.
    await rename(path, previous);
    await writeFileAtomic(path, secretFileText(secret, comment), { mode: 0o600 });
  } else {
    await writeNew(path, secretFileText(secret, comment), options.force === true);
  }

  const protocols = options.protocols;
  const lines = [`[${door}]`, `    Sequence_Secret_File = ${path}`];
  const until = new Date((deps.now ?? Date.now)() + (rotate ? options.grace : 0) * 3_600_000)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z');
  if (rotate)
    lines.push(
      `    Sequence_Secret_Previous_File = ${previous}`,
      `    Sequence_Secret_Previous_Until = ${until}`,
    );
  lines.push(
    `    Sequence_Length = ${options.length}`,
    `    Sequence_Step = ${options.step}`,
    `    Sequence_Ports = ${options.ports.low}-${options.ports.high}`,
  );
  if (protocols !== ROTATING_DEFAULTS.protocols)
    lines.push(`    Sequence_Protocols = ${protocols}`);
  lines.push('    Seq_Timeout = 10');
  lines.push(
    options.port !== undefined
      ? `    Open_Ports = ${options.port}/tcp`
      : '    # Open_Ports = 22/tcp    (or Start_Command = …)',
  );

  const rotating: ProfileRotating & { secret: string } = {
    secret: formatSecret(secret),
    door,
    ...settings,
    protocols,
  };
  const host = options.host ?? 'HOST';
  const profile = [
    profileTable(host),
    ...rotatingProfileLines(rotating, tomlString),
    ...(options.port !== undefined ? [`port = ${options.port}`] : []),
  ];
  const out: string[] = [
    `${rotate ? `Moved the old secret to ${previous}; wrote` : 'Wrote'} a new secret for door [${door}] to ${path} (mode 0600).`,
    '',
    `In knockd.conf${rotate ? " (replace the door's Sequence_Secret… lines)" : ''}, then check it (knock-server check) and reload the daemon (SIGHUP):`,
    '',
    ...lines,
    '',
    `On each client, in ~/.config/knock/config.toml (the secret is a password: keep the file private, or use secret_file):`,
    '',
    ...profile,
    '',
  ];
  if (rotate)
    out.push(
      `Clients that still have the old secret get in until ${until}: give them the new one before then (knock import, or the lines above). After that, remove the Sequence_Secret_Previous lines and ${previous}.`,
      '',
    );
  if (options.host !== undefined) {
    const uri = formatKnockUri({
      host: options.host,
      rotating,
      ...(options.port !== undefined ? { port: options.port } : {}),
    });
    out.push('Or on a client: knock import ' + shellQuote(uri), '');
    if (options.qr) {
      const { renderUnicodeCompact } = await import('uqr');
      out.push('Or scan it (a phone app):', '', renderUnicodeCompact(uri, { border: 2 }), '');
    }
  } else out.push('(give --host NAME for a knock:// URI and its QR code)', '');
  deps.stdout(`${out.join('\n')}`);
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/** Writes a new file atomically (temp + link), refusing to replace one unless `force`. */
async function writeNew(path: string, text: string, force: boolean): Promise<void> {
  if (force) {
    await writeFileAtomic(path, text, { mode: 0o600 });
    return;
  }
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFileAtomic(temp, text, { mode: 0o600 });
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KnockError('secret.exists', `${path} exists already`, {
        exitCode: ExitCode.failure,
        hint: 'knock-server secret rotate DOOR replaces it without downtime; --force overwrites it (clients with the old secret stop working)',
      });
    }
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
