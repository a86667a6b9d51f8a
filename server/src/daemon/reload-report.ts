/**
 * SIGHUP's words: the new config's issues as log lines (and whether they refuse the
 * reload), and the settings that change only at the next start.
 */
import { formatIssue, hasErrors, type KnockdConfig } from '@knock/shared';
import type { Logger } from './log.js';
import type { ConfigLoad } from './deps.js';
import { DEFAULT_CONTROL_SOCKET } from '../control/protocol.js';

/**
 * Logs every issue of the re-read config; with errors, also that the running one stays,
 * and returns the message for the reload's status (undefined: the config can be used).
 */
export function reportIssues(
  loaded: ConfigLoad,
  configPath: string,
  log: Logger,
): string | undefined {
  for (const issue of loaded.issues)
    log.log({
      level: issue.severity === 'error' ? 'error' : 'info',
      event: 'reloadFailed',
      msg: formatIssue(issue).replace(/\n\s*/g, ' '),
    });
  if (!hasErrors(loaded.issues)) return undefined;
  log.error('reloadFailed', `${configPath} has errors: keeping the running configuration`);
  const first = loaded.issues.find((issue) => issue.severity === 'error');
  const errors = loaded.issues.filter((issue) => issue.severity === 'error').length;
  return `${errors} error${errors === 1 ? '' : 's'} in the config${first ? ` (first: ${formatIssue(first).split('\n')[0]})` : ''}; the previous configuration keeps running`;
}

/**
 * Settings read only at the start (Interface, the cluster's, Control_Socket,
 * Metrics_Listen): when the re-read config differs from what the daemon STARTED with, say
 * that it takes effect at the next start (compared with the start, not with the previous
 * reload, so a second SIGHUP does not make the change look applied). Returns the names of
 * the settings waiting for a restart, for the reload's status line.
 */
export function noteRestartOnly(
  started: KnockdConfig['options'],
  next: KnockdConfig['options'],
  log: Logger,
): string[] {
  const waiting: string[] = [];
  if ((next.interface ?? '') !== (started.interface ?? '')) {
    log.info('reload', 'Interface changed: it takes effect at the next start (as in knockd)');
    waiting.push('Interface');
  }
  if (clusterKey(next) !== clusterKey(started)) {
    log.info('reload', 'Cluster settings changed: they take effect at the next start');
    waiting.push('Cluster');
  }
  const socketWas = started.controlSocket ?? DEFAULT_CONTROL_SOCKET;
  const socketNow = next.controlSocket ?? DEFAULT_CONTROL_SOCKET;
  if (socketNow !== socketWas) {
    log.info(
      'reload',
      `Control_Socket changed from ${socketWas} to ${socketNow}: it takes effect at the next start` +
        (socketWas === 'none'
          ? ''
          : ` (until then this daemon answers on ${socketWas}: knock-server status -s ${socketWas})`),
    );
    waiting.push('Control_Socket');
  }
  if ((next.metricsListen ?? '') !== (started.metricsListen ?? '')) {
    log.info(
      'reload',
      `Metrics_Listen changed from ${started.metricsListen ?? '(not set)'} to ${next.metricsListen ?? '(not set)'}: it takes effect at the next start`,
    );
    waiting.push('Metrics_Listen');
  }
  return waiting;
}

const clusterKey = (o: KnockdConfig['options']): string =>
  [o.cluster, o.clusterName, o.clusterNode, o.clusterPasswordFile, o.clusterFail].join('\0');
