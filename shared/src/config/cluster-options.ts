/**
 * The `[options]` directives of a knock-server cluster (extensions, knockd rejects them):
 *
 *   Cluster               = redis://HOST[:PORT][/DB] | rediss://… (TLS) | unix:///PATH[?db=N]
 *   Cluster_Password_File = PATH     the Redis password (AUTH), one line, mode 0600 or 0400
 *   Cluster_Name          = NAME     key prefix: several clusters can share one Redis
 *   Cluster_Node          = NAME     this node's name in grants and `cluster status` (default: host name)
 *   Cluster_Fail          = closed | open   single-use knocks while Redis is unreachable
 *
 * Pure: the parser calls applyClusterOption() for these names and finishClusterOptions()
 * at the end; the file's permissions are checked by the server (Node I/O).
 */
import type { SeverityReport } from './report.js';

export const CLUSTER_DIRECTIVES = [
  'Cluster',
  'Cluster_Password_File',
  'Cluster_Name',
  'Cluster_Node',
  'Cluster_Fail',
] as const;
export type ClusterDirective = (typeof CLUSTER_DIRECTIVES)[number];

export type ClusterFailMode = 'open' | 'closed';

/** The cluster fields of `Options` (all absent: a single node). */
export interface ClusterSettings {
  /** `Cluster`: where the shared store (Redis or Valkey) is, as written. */
  cluster?: string;
  clusterPasswordFile?: string;
  clusterName?: string;
  clusterNode?: string;
  clusterFail?: ClusterFailMode;
}

export const DEFAULT_CLUSTER_NAME = 'knock';
export const DEFAULT_REDIS_PORT = 6379;

/** Where the store is, from a `Cluster` URL. */
export type ClusterEndpoint =
  | { kind: 'tcp'; tls: boolean; host: string; port: number; db: number; username?: string }
  | { kind: 'unix'; path: string; db: number; username?: string };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Parses a `Cluster` value; `problem` says what is wrong and how to write it. */
export function parseClusterUrl(
  text: string,
): { endpoint: ClusterEndpoint; problem?: undefined } | { problem: string } {
  const scheme = /^([a-z]+):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined)
    return { problem: 'expected redis://HOST:PORT/DB, rediss://HOST:PORT/DB or unix:///PATH' };
  if (scheme === 'unix') {
    const m = /^unix:\/\/(?:([^@/:]+)@)?(\/[^?#]*)(?:\?db=(\d{1,5}))?$/i.exec(text);
    if (!m) return { problem: 'expected unix:///absolute/path/redis.sock (optionally ?db=N)' };
    return {
      endpoint: {
        kind: 'unix',
        path: decodeURIComponent(m[2]!),
        db: Number(m[3] ?? 0),
        ...(m[1] !== undefined ? { username: m[1] } : {}),
      },
    };
  }
  if (scheme !== 'redis' && scheme !== 'rediss')
    return { problem: `unknown scheme ${scheme}:// (use redis://, rediss:// or unix://)` };
  const m =
    /^[a-z]+:\/\/(?:([^@/:]*)(:[^@/]*)?@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\/(\d{0,5}))?\/?$/i.exec(
      text,
    );
  if (!m) return { problem: `expected ${scheme}://HOST:PORT/DB, e.g. ${scheme}://10.0.0.5:6379/0` };
  const [, user, password, rawHost, portText, dbText] = m;
  if (password !== undefined)
    return {
      problem:
        'a password in the URL would be readable by anyone who can read this config: put it in Cluster_Password_File',
    };
  const port = portText === undefined ? DEFAULT_REDIS_PORT : Number(portText);
  if (port < 1 || port > 65535) return { problem: `port ${portText} is outside 1-65535` };
  const host = rawHost!.startsWith('[') ? rawHost!.slice(1, -1) : rawHost!;
  return {
    endpoint: {
      kind: 'tcp',
      tls: scheme === 'rediss',
      host,
      port,
      db: dbText === undefined || dbText === '' ? 0 : Number(dbText),
      ...(user !== undefined && user !== '' ? { username: user } : {}),
    },
  };
}

/** Where the cluster directives were seen, for the checks made once the file is read. */
export interface ClusterParseState {
  lines: Partial<Record<ClusterDirective, number>>;
}

export const newClusterParseState = (): ClusterParseState => ({ lines: {} });

/** Applies one cluster directive (its canonical name) to `options`, reporting bad values. */
export function applyClusterOption(
  options: ClusterSettings,
  state: ClusterParseState,
  name: ClusterDirective,
  value: string,
  line: number,
  column: number,
  report: SeverityReport,
): void {
  state.lines[name] = line;
  const bad = (message: string, hint: string) =>
    report('error', `config.cluster.${name.toLowerCase()}`, line, column, message, hint);
  switch (name) {
    case 'Cluster': {
      if (value === '')
        return bad('Cluster has no value', 'write Cluster = redis://10.0.0.5:6379/0');
      const parsed = parseClusterUrl(value);
      if (parsed.problem !== undefined)
        return bad(
          `Cluster = ${value}: ${parsed.problem}`,
          'write Cluster = redis://HOST:PORT/DB, rediss://HOST:PORT/DB or unix:///run/redis/redis.sock',
        );
      options.cluster = value;
      return;
    }
    case 'Cluster_Password_File':
      if (!value.startsWith('/'))
        return bad(
          value === ''
            ? 'Cluster_Password_File has no value'
            : `Cluster_Password_File = ${value} is not an absolute path`,
          'write Cluster_Password_File = /etc/knock/redis.password (mode 0600, owned by root)',
        );
      options.clusterPasswordFile = value;
      return;
    case 'Cluster_Name':
    case 'Cluster_Node':
      if (!NAME.test(value))
        return bad(
          value === '' ? `${name} has no value` : `${name} = ${value} is not a valid name`,
          `use 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit), e.g. ${name} = ${name === 'Cluster_Name' ? 'bastions' : 'bastion-a'}`,
        );
      if (name === 'Cluster_Name') options.clusterName = value;
      else options.clusterNode = value;
      return;
    case 'Cluster_Fail': {
      const mode = value.toLowerCase();
      if (mode !== 'open' && mode !== 'closed')
        return bad(
          value === '' ? 'Cluster_Fail has no value' : `unknown Cluster_Fail "${value}"`,
          'write Cluster_Fail = closed (refuse single-use knocks while the cluster is unreachable) or open',
        );
      options.clusterFail = mode;
      return;
    }
  }
}

/** After the whole file: cluster settings without `Cluster` do nothing. */
export function finishClusterOptions(
  options: ClusterSettings,
  state: ClusterParseState,
  report: SeverityReport,
): void {
  if (options.cluster !== undefined || state.lines.Cluster !== undefined) return;
  for (const name of CLUSTER_DIRECTIVES) {
    const line = state.lines[name];
    if (line === undefined) continue;
    report(
      'warning',
      'config.cluster.noCluster',
      line,
      0,
      `${name} has no effect without Cluster`,
      'add Cluster = redis://HOST:PORT/DB to [options], or remove the line',
    );
  }
}

/** The cluster directives a config uses (for extensionsUsed and the serializer). */
export function clusterDirectiveValues(options: ClusterSettings): [ClusterDirective, string][] {
  const values: [ClusterDirective, string | undefined][] = [
    ['Cluster', options.cluster],
    ['Cluster_Password_File', options.clusterPasswordFile],
    ['Cluster_Name', options.clusterName],
    ['Cluster_Node', options.clusterNode],
    ['Cluster_Fail', options.clusterFail],
  ];
  return values.filter((v): v is [ClusterDirective, string] => v[1] !== undefined);
}

export const isClusterDirective = (name: string): name is ClusterDirective =>
  (CLUSTER_DIRECTIVES as readonly string[]).includes(name);
