/** What `ssh -G ARGS` says ssh is about to do (lower-case keys, first value of each). */
export interface SshTarget {
  /** The host as typed (the `Host` alias). */
  host: string | undefined;
  /** The name ssh will resolve and dial (after HostName and canonicalisation). */
  hostname: string;
  port: number;
  addressFamily: 'any' | 'inet' | 'inet6';
  hostKeyAlias: string | undefined;
  /** A ProxyCommand or ProxyJump is configured: ssh will not dial hostname itself. */
  proxy: string | undefined;
}

export function parseSshConfig(text: string): SshTarget | undefined {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined && !values.has(match[1].toLowerCase()))
      values.set(match[1].toLowerCase(), match[2]);
  }
  const hostname = values.get('hostname');
  const port = Number(values.get('port') ?? '22');
  if (hostname === undefined || !Number.isInteger(port) || port < 1 || port > 65535)
    return undefined;
  const family = values.get('addressfamily');
  const set = (key: string) => {
    const value = values.get(key);
    return value === undefined || value.toLowerCase() === 'none' ? undefined : value;
  };
  const proxyCommand = set('proxycommand');
  const proxyJump = set('proxyjump');
  return {
    host: values.get('host'),
    hostname,
    port,
    addressFamily: family === 'inet' || family === 'inet6' ? family : 'any',
    hostKeyAlias: set('hostkeyalias'),
    proxy: proxyCommand ?? (proxyJump === undefined ? undefined : `ProxyJump ${proxyJump}`),
  };
}

/** The name ssh files the host key under in known_hosts: `name`, or `[name]:port` off port 22. */
export const knownHostsName = (hostname: string, port: number): string =>
  port === 22 ? hostname : `[${hostname}]:${port}`;
