/**
 * From a config's cluster directives to a connected ClusterNode: the password file (read
 * only if its permissions are safe), the node's name (default: the host name), the store
 * connection and its checks. Every failure is a KnockError naming the directive or the URL:
 * ExitCode.config for the config's own problems, ExitCode.cluster for the store's.
 */
import { readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import {
  DEFAULT_CLUSTER_NAME,
  ExitCode,
  KnockError,
  parseClusterUrl,
  type ClusterSettings,
  type Issue,
} from '@knock/shared';
import { ClusterNode, type ClusterLog } from './node.js';
import { ClusterStore } from './store.js';

/** The host name as a node name (letters, digits, `.`, `_`, `-`; at most 64). */
export function defaultNodeName(host = hostname()): string {
  const name = host
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return name === '' ? 'node' : name;
}

/** What is wrong with the password file's permissions, or undefined. */
export function passwordFileProblem(
  info: { mode: number; uid: number },
  myUid: number,
): string | undefined {
  if ((info.mode & 0o077) !== 0)
    return `its mode is ${(info.mode & 0o777).toString(8).padStart(4, '0')}: others than its owner can read it`;
  if (info.uid !== 0 && info.uid !== myUid)
    return `it is owned by uid ${info.uid}, neither root nor us`;
  return undefined;
}

export async function readPasswordFile(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new KnockError(
      'cluster.passwordFile',
      `cannot read Cluster_Password_File ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      {
        exitCode: ExitCode.config,
        hint: 'create it with the Redis password on one line, mode 0600',
      },
    );
  }
  const problem = passwordFileProblem(info, process.getuid?.() ?? 0);
  if (problem !== undefined)
    throw new KnockError(
      'cluster.passwordFile',
      `Cluster_Password_File ${path} is not safe: ${problem}`,
      {
        exitCode: ExitCode.config,
        hint: `chown root: ${path} && chmod 600 ${path}`,
      },
    );
  const text = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  if (text === '' || text.includes('\n'))
    throw new KnockError(
      'cluster.passwordFile',
      `Cluster_Password_File ${path} must hold the password on one line (it ${text === '' ? 'is empty' : 'has several lines'})`,
      { exitCode: ExitCode.config, hint: 'write only the password, on one line' },
    );
  return text;
}

/**
 * `check` (a start check): the password file's problems as issues, on `line` of the config
 * (0 when unknown). `read` is readPasswordFile, or a test's file system.
 */
export async function checkClusterFiles(
  options: ClusterSettings,
  configFile: string,
  read: (path: string) => Promise<string> = readPasswordFile,
  line = 0,
): Promise<Issue[]> {
  if (options.cluster === undefined || options.clusterPasswordFile === undefined) return [];
  try {
    await read(options.clusterPasswordFile);
    return [];
  } catch (error) {
    const e = error as KnockError;
    return [
      {
        severity: 'error',
        code: 'config.cluster.passwordFile',
        message: e.message,
        ...(e.hint !== undefined ? { hint: e.hint } : {}),
        file: configFile,
        line,
        column: 0,
      },
    ];
  }
}

export interface OpenClusterOptions {
  log: ClusterLog;
  version: string;
  /** false: fw / cluster on the command line (changes are awaited, sockets unref'd). */
  background: boolean;
  heartbeatMs?: number;
  connectTimeoutMs?: number;
}

/** Connects to the cluster a config names; undefined when it names none. */
export async function openCluster(
  options: ClusterSettings,
  how: OpenClusterOptions,
): Promise<ClusterNode | undefined> {
  if (options.cluster === undefined) return undefined;
  const parsed = parseClusterUrl(options.cluster);
  if (parsed.problem !== undefined)
    throw new KnockError('cluster.url', `Cluster = ${options.cluster}: ${parsed.problem}`, {
      exitCode: ExitCode.config,
    });
  const password =
    options.clusterPasswordFile !== undefined
      ? await readPasswordFile(options.clusterPasswordFile)
      : undefined;
  // The store delivers messages from its start; the node exists a moment later.
  const holder: { node?: ClusterNode } = {};
  const store = await ClusterStore.connect({
    url: options.cluster,
    endpoint: parsed.endpoint,
    ...(password !== undefined ? { password } : {}),
    clusterName: options.clusterName ?? DEFAULT_CLUSTER_NAME,
    log: how.log,
    ...(how.connectTimeoutMs !== undefined ? { connectTimeoutMs: how.connectTimeoutMs } : {}),
    onMessage: (text) => holder.node?.onMessage(text),
  });
  if (!how.background) store.unref();
  const node = new ClusterNode({
    store,
    node: options.clusterNode ?? defaultNodeName(),
    failMode: options.clusterFail ?? 'closed',
    version: how.version,
    log: how.log,
    background: how.background,
    ...(how.heartbeatMs !== undefined ? { heartbeatMs: how.heartbeatMs } : {}),
  });
  holder.node = node;
  return node;
}
