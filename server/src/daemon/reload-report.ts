/**
 * SIGHUP's words: the new config's issues as log lines (and whether they refuse the
 * reload), and the settings that change only at the next start.
 */
import { formatIssue, hasErrors, type KnockdConfig } from '@knock/shared';
import type { Logger } from './log.js';
import type { ConfigLoad } from './deps.js';

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

/** Interface and cluster settings take effect at the next start: say so when they changed. */
export function noteRestartOnly(
  old: KnockdConfig['options'],
  next: KnockdConfig['options'],
  log: Logger,
): void {
  if ((next.interface ?? '') !== (old.interface ?? ''))
    log.info('reload', 'Interface changed: it takes effect at the next start (as in knockd)');
  if (clusterKey(next) !== clusterKey(old))
    log.info('reload', 'Cluster settings changed: they take effect at the next start');
}

const clusterKey = (o: KnockdConfig['options']): string =>
  [o.cluster, o.clusterName, o.clusterNode, o.clusterPasswordFile, o.clusterFail].join('\0');
