/**
 * `knock-server install-service [--dry-run]`: installs server/systemd/knock-server.service
 * with ExecStart pointing at this knock-server and the config's absolute path, then reloads
 * systemd if it runs. A config that does not exist or has errors is refused (the unit
 * would restart forever); files the sandbox hides or keeps read-only are warned about.
 */
import { existsSync } from 'node:fs';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import {
  DEFAULT_CONFIG_FILE,
  ExitCode,
  KnockError,
  errorText,
  hasErrors,
  type KnockdConfig,
} from '@knock/shared';
import { showArgv, systemExec } from '../firewall/exec.js';
import type { Exec } from '../firewall/types.js';
import { loadConfig } from './config-file.js';
import { leafOptions } from './leaf-options.js';

export interface ServiceDeps {
  stdout?: (text: string) => void;
  exec?: Exec;
  /** Default /etc/systemd/system. */
  unitDir?: string;
  /** Whether systemd is the running init (default: /run/systemd/system exists). */
  systemdRunning?: () => Promise<boolean>;
  /** The command line that starts knock-server (default: this node and bin/knock-server.js). */
  execStart?: string[];
  /** Reads the config the unit will run with (tests). */
  readConfig?: (path: string) => Promise<string>;
  stderr?: (text: string) => void;
}

// From src/cli/ and from dist/cli/ alike: ../../ is the server package.
const TEMPLATE = new URL('../../systemd/knock-server.service', import.meta.url);
const BIN = new URL('../../bin/knock-server.js', import.meta.url);
const README = new URL('../../../README.md', import.meta.url);

/** knock-server's own documentation (knockd's man page describes another program). */
export function documentation(): string {
  const readme = fileURLToPath(README);
  return ['man:knock-server(8)', ...(existsSync(readme) ? [`file://${readme}`] : [])].join(' ');
}

/** The unit text with ExecStart replaced by `argv` (quoted for systemd when needed). */
export function renderUnit(template: string, argv: readonly string[], docs?: string): string {
  const quoted = argv.map((a) =>
    /^[\w@%+=:,./-]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`,
  );
  const unit = template.replace(/^ExecStart=.*$/m, `ExecStart=${quoted.join(' ')}`);
  return docs === undefined ? unit : unit.replace(/^Documentation=.*$/m, `Documentation=${docs}`);
}

const setting = (unit: string, key: string): string | undefined =>
  new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1]?.trim();

const under = (path: string, dir: string): boolean =>
  path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/**
 * What the unit's sandbox does to the files a config names: PrivateTmp hides /tmp,
 * ProtectHome hides /home, /root and /run/user, ProtectSystem=strict makes everything
 * outside ReadWritePaths read-only. One warning per file that the service could not use.
 */
export function sandboxWarnings(unit: string, configPath: string, config: KnockdConfig): string[] {
  const hidden: string[] = [];
  if (setting(unit, 'PrivateTmp') === 'yes') hidden.push('/tmp', '/var/tmp');
  if (['yes', 'read-only', 'tmpfs'].includes(setting(unit, 'ProtectHome') ?? ''))
    hidden.push('/home', '/root', '/run/user');
  const strict = setting(unit, 'ProtectSystem') === 'strict';
  const writable = (setting(unit, 'ReadWritePaths') ?? '')
    .split(/\s+/)
    .filter((p) => p !== '')
    .map((p) => p.replace(/^[-+]/, ''));
  const files: { what: string; path: string; writes: boolean }[] = [
    { what: 'the config', path: configPath, writes: false },
  ];
  const { options } = config;
  if (options.trustedFile)
    files.push({ what: 'Trusted_File', path: options.trustedFile, writes: false });
  if (options.logFile) files.push({ what: 'LogFile', path: options.logFile, writes: true });
  if (options.pidFile) files.push({ what: 'PidFile', path: options.pidFile, writes: true });
  for (const door of config.doors)
    if (door.oneTimeSequences)
      files.push({
        what: `One_Time_Sequences of [${door.name}] (marked as used)`,
        path: door.oneTimeSequences,
        writes: true,
      });
  const warnings: string[] = [];
  for (const file of files) {
    if (!isAbsolute(file.path)) {
      // systemd starts the service in /: a relative path names another file there.
      warnings.push(
        `${file.what} ${file.path} is a relative path: the service runs in /, where it is /${file.path.replace(/^\.\//, '')}; write the absolute path`,
      );
      continue;
    }
    const path = resolve(file.path);
    const dir = hidden.find((d) => under(path, d));
    if (dir !== undefined)
      warnings.push(
        `${file.what} ${path} is under ${dir}, which the service cannot see (${dir.endsWith('tmp') ? 'PrivateTmp=yes' : 'ProtectHome=yes'}): move it, e.g. to /etc/knockd/`,
      );
    else if (file.writes && strict && !writable.some((d) => under(path, d)))
      warnings.push(
        `${file.what} ${path} is read-only for the service (ProtectSystem=strict; writable: ${writable.join(' ')}): move it there`,
      );
  }
  return warnings;
}

const defaultSystemdRunning = async () => {
  try {
    await access('/run/systemd/system');
    return true;
  } catch {
    return false;
  }
};

export function installServiceCommand(deps: ServiceDeps = {}): Command {
  const stdout = deps.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = deps.stderr ?? ((t: string) => void process.stderr.write(t));
  const readConfig = deps.readConfig ?? ((p: string) => readFile(p, 'utf8'));
  return new Command('install-service')
    .description(
      'install the systemd unit (Restart=always, SIGHUP reload, CAP_NET_RAW/CAP_NET_ADMIN only)',
    )
    .option(
      '-c, --config <file>',
      'the config the service runs with (must exist; written into the unit as an absolute path)',
      DEFAULT_CONFIG_FILE,
    )
    .option('--dry-run', 'print the unit and where it would go; change nothing')
    .allowExcessArguments(false)
    .action(async (_opts, command: Command) => {
      const opts = leafOptions<{ config: string; dryRun?: boolean }>(command);
      const unitDir = deps.unitDir ?? '/etc/systemd/system';
      const target = `${unitDir}/knock-server.service`;
      const execStart = deps.execStart ?? [process.execPath, fileURLToPath(BIN)];
      // systemd runs ExecStart from /: a relative -c would name another file there.
      const configPath = resolve(opts.config);
      const config = await configForService(configPath, readConfig);
      const unit = renderUnit(
        await readFile(TEMPLATE, 'utf8'),
        [...execStart, '-c', configPath],
        documentation(),
      );
      for (const warning of sandboxWarnings(unit, configPath, config))
        stderr(`knock-server: warning: ${warning}\n`);
      if (opts.dryRun) {
        stdout(`# would write ${target}:\n${unit}`);
        return;
      }
      const current = await readFile(target, 'utf8').catch(() => undefined);
      if (current === unit) {
        stdout(`${target} is already up to date\n`);
      } else {
        try {
          await mkdir(unitDir, { recursive: true });
          await writeFile(target, unit, { mode: 0o644 });
        } catch (error) {
          throw new KnockError('service.write', `cannot write ${target}: ${errorText(error)}`, {
            exitCode: ExitCode.permission,
            hint: 'run it as root',
          });
        }
        stdout(`wrote ${target}\n`);
      }
      if (!(await (deps.systemdRunning ?? defaultSystemdRunning)())) {
        stdout(
          'systemd is not running here (no /run/systemd/system), so nothing was reloaded.\n' +
            'On the host that runs systemd: systemctl daemon-reload && systemctl enable --now knock-server\n',
        );
        return;
      }
      const reload = ['daemon-reload'];
      const result = await (deps.exec ?? systemExec)('systemctl', reload);
      if (result.code !== 0)
        throw new KnockError(
          'service.reload',
          `${showArgv('systemctl', reload)} failed: ${result.stderr.trim()}`,
          {
            exitCode: ExitCode.failure,
          },
        );
      stdout('systemd reloaded: start it with systemctl enable --now knock-server\n');
    });
}

/** The config the unit will run: it must exist and start, or the unit restarts forever. */
async function configForService(
  path: string,
  readConfig: (path: string) => Promise<string>,
): Promise<KnockdConfig> {
  const loaded = await loadConfig(path, readConfig);
  if (loaded.text === undefined) {
    const error = loaded.readError;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    throw new KnockError(
      'service.config',
      `cannot read the config ${path} (${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}): the service would fail at every start`,
      {
        exitCode: ExitCode.config,
        hint: 'write the config first, or name it with -c FILE (knock-server check -c FILE validates it)',
      },
    );
  }
  if (hasErrors(loaded.issues))
    throw new KnockError(
      'service.config',
      `${path} has errors: the service would fail at every start`,
      { exitCode: ExitCode.config, hint: `knock-server check -c ${path} lists them` },
    );
  return loaded.config;
}
