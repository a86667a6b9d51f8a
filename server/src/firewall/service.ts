/**
 * `knock-server install-service [--dry-run]`: installs server/systemd/knock-server.service
 * with ExecStart pointing at this knock-server, then reloads systemd if it runs.
 */
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, ExitCode, KnockError } from '@knock/shared';
import { leafOptions } from '../cli/leaf-options.js';
import { showArgv, systemExec } from './exec.js';
import type { Exec } from './types.js';

export interface ServiceDeps {
  stdout?: (text: string) => void;
  exec?: Exec;
  /** Default /etc/systemd/system. */
  unitDir?: string;
  /** Whether systemd is the running init (default: /run/systemd/system exists). */
  systemdRunning?: () => Promise<boolean>;
  /** The command line that starts knock-server (default: this node and bin/knock-server.js). */
  execStart?: string[];
}

// From src/firewall/ and from dist/firewall/ alike: ../../ is the server package.
const TEMPLATE = new URL('../../systemd/knock-server.service', import.meta.url);
const BIN = new URL('../../bin/knock-server.js', import.meta.url);

/** The unit text with ExecStart replaced by `argv` (quoted for systemd when needed). */
export function renderUnit(template: string, argv: readonly string[]): string {
  const quoted = argv.map((a) =>
    /^[\w@%+=:,./-]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`,
  );
  return template.replace(/^ExecStart=.*$/m, `ExecStart=${quoted.join(' ')}`);
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
  return new Command('install-service')
    .description(
      'install the systemd unit (Restart=always, SIGHUP reload, CAP_NET_RAW/CAP_NET_ADMIN only)',
    )
    .option('-c, --config <file>', 'the config the service runs with', DEFAULT_CONFIG_FILE)
    .option('--dry-run', 'print the unit and where it would go; change nothing')
    .allowExcessArguments(false)
    .action(async (_opts, command: Command) => {
      const opts = leafOptions<{ config: string; dryRun?: boolean }>(command);
      const unitDir = deps.unitDir ?? '/etc/systemd/system';
      const target = `${unitDir}/knock-server.service`;
      const execStart = deps.execStart ?? [process.execPath, fileURLToPath(BIN)];
      const unit = renderUnit(await readFile(TEMPLATE, 'utf8'), [...execStart, '-c', opts.config]);
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
          throw new KnockError(
            'service.write',
            `cannot write ${target}: ${(error as Error).message}`,
            {
              exitCode: ExitCode.permission,
              hint: 'run it as root',
            },
          );
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
