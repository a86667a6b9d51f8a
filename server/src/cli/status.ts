/**
 * `knock-server status [--json] [--watch]` and `knock-server metrics`: ask the running
 * daemon over its control socket (control/protocol.ts). Which socket: --socket, else
 * the config's Control_Socket (-c FILE, or /etc/knockd.conf when it exists), else
 * /run/knock-server.sock.
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, ExitCode, KnockError } from '@knock/shared';
import { request } from '../control/client.js';
import {
  DEFAULT_CONTROL_SOCKET,
  renderStatus,
  type ControlCommand,
  type Response,
} from '../control/protocol.js';
import { loadConfig } from './check.js';

export interface StatusDeps {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Asks the daemon (tests fake it). */
  request?: (path: string, cmd: ControlCommand) => Promise<Response>;
  /** --watch: waits between refreshes; resolves false to stop (tests). */
  sleep?: (ms: number) => Promise<boolean>;
  /** Whether stdout is a terminal (--watch clears the screen only then). */
  isTTY?: boolean;
}

interface SocketOptions {
  socket?: string;
  config?: string;
}

/** The socket to ask: --socket, the config's Control_Socket, or the default. */
export async function resolveSocket(options: SocketOptions): Promise<string> {
  if (options.socket !== undefined) return options.socket;
  const path =
    options.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (path === undefined) return DEFAULT_CONTROL_SOCKET;
  const loaded = await loadConfig(path);
  const unreadable = loaded.issues.find((i) => i.code === 'config.unreadable');
  if (unreadable && options.config !== undefined)
    throw new KnockError('control.config', `${path}: ${unreadable.message}`, {
      exitCode: ExitCode.config,
      hint: 'name the socket with --socket PATH instead',
    });
  const socket = loaded.config.options.controlSocket;
  if (socket === 'none')
    throw new KnockError(
      'control.disabled',
      `${path} turns the control socket off (Control_Socket = none): the daemon cannot be asked`,
      {
        exitCode: ExitCode.config,
        hint: 'set Control_Socket = PATH in [options], then restart knock-server',
      },
    );
  return socket ?? DEFAULT_CONTROL_SOCKET;
}

function unwrap(response: Response, path: string): Response & { ok: true } {
  if (!response.ok)
    throw new KnockError('control.refused', `knock-server (${path}) answered: ${response.error}`, {
      exitCode: ExitCode.failure,
    });
  return response;
}

const socketOptions = (command: Command): Command =>
  command
    .option(
      '-s, --socket <path>',
      `the daemon's control socket (default: Control_Socket, else ${DEFAULT_CONTROL_SOCKET})`,
    )
    .option(
      '-c, --config <file>',
      `read Control_Socket from this config (default ${DEFAULT_CONFIG_FILE} when it exists)`,
    );

export function statusCommand(deps: StatusDeps): Command {
  const ask = deps.request ?? ((path, cmd) => request(path, cmd));
  const sleep =
    deps.sleep ??
    ((ms: number) => new Promise<boolean>((done) => setTimeout(() => done(true), ms)));
  return socketOptions(
    new Command('status')
      .description(
        'show what the running daemon is doing: doors, knocks in progress, capture, commands, reloads',
      )
      .option('--json', 'print the status as one JSON document (one per line with --watch)')
      .option('-w, --watch', 'refresh every second until interrupted'),
  )
    .addHelpText(
      'after',
      `
It asks the daemon over its control socket (a Unix socket, mode 0600: run it as root).
Exit status: 0 when the daemon answered; 1 when no daemon listens on the socket; 13 without
permission to use the socket.

Examples:
  knock-server status                       doors, attempts, capture drops, last reload
  knock-server status --json | jq .doors    the same, for scripts
  knock-server status --watch               refreshed every second (Ctrl-C stops)
  knock-server status -s /run/other.sock    a daemon with its own Control_Socket
`,
    )
    .action(async (opts: SocketOptions & { json?: boolean; watch?: boolean }) => {
      const path = await resolveSocket(opts);
      const once = async (): Promise<string> => {
        const response = unwrap(await ask(path, 'status'), path);
        if (!('status' in response))
          throw new KnockError('control.badResponse', `${path} sent no status`);
        return opts.json === true
          ? `${JSON.stringify(response.status, undefined, opts.watch ? undefined : 2)}\n`
          : renderStatus(response.status);
      };
      if (opts.watch !== true) {
        deps.stdout(await once());
        return;
      }
      const clear = deps.isTTY === true && opts.json !== true ? '\x1b[H\x1b[2J' : '';
      for (;;) {
        let text: string;
        try {
          text = await once();
        } catch (error) {
          if (!(error instanceof KnockError)) throw error;
          // The daemon may be restarting: say so and keep watching.
          text = `${new Date().toISOString()}  ${error.message}\n`;
        }
        deps.stdout(`${clear}${text}`);
        if (!(await sleep(1000))) return;
      }
    });
}

export function metricsCommand(deps: StatusDeps): Command {
  const ask = deps.request ?? ((path, cmd) => request(path, cmd));
  return socketOptions(
    new Command('metrics').description(
      "print the daemon's Prometheus metrics (text format), e.g. for node_exporter's textfile collector",
    ),
  )
    .addHelpText(
      'after',
      `
The same metrics are served over HTTP when [options] has Metrics_Listen = 127.0.0.1:9742.

Example (cron, node_exporter textfile collector):
  knock-server metrics > /var/lib/node_exporter/knock.prom.tmp && \\
    mv /var/lib/node_exporter/knock.prom.tmp /var/lib/node_exporter/knock.prom
`,
    )
    .action(async (opts: SocketOptions) => {
      const path = await resolveSocket(opts);
      const response = unwrap(await ask(path, 'metrics'), path);
      if (!('metrics' in response))
        throw new KnockError('control.badResponse', `${path} sent no metrics`);
      deps.stdout(response.metrics);
    });
}
