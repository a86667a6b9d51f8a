/**
 * Service names as ports, the way knockd's client accepts them (`knock host ssh`
 * hits 22). Node has no getservbyname, so the system's services file is read and
 * parsed here (`name port/proto [aliases…] [# comment]`): /etc/services on Unix,
 * %SystemRoot%\System32\drivers\etc\services on Windows. Where it cannot be read (a
 * container without it, a locked-down Windows), a built-in table of common names is
 * used instead, and messages say so. Pure (the reader is passed in): the CLI, the TUI and
 * the tray's profile form all take service names for ports.
 */
export type ServiceTable = ReadonlyMap<string, { tcp?: number; udp?: number }>;

export function parseServices(text: string): ServiceTable {
  const table = new Map<string, { tcp?: number; udp?: number }>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [name, portProto, ...aliases] = line.split(/\s+/);
    const match = /^(\d+)\/(tcp|udp)$/i.exec(portProto ?? '');
    if (name === undefined || !match) continue;
    const port = Number(match[1]);
    const proto = match[2]?.toLowerCase() as 'tcp' | 'udp';
    for (const key of [name, ...aliases]) {
      const entry = table.get(key) ?? {};
      entry[proto] ??= port;
      table.set(key, entry);
    }
  }
  return table;
}

/** The port of `name` for `protocol`, else for the other protocol (ports rarely differ), else undefined. */
export function lookupService(
  table: ServiceTable,
  name: string,
  protocol: 'tcp' | 'udp',
): number | undefined {
  const entry = table.get(name);
  if (entry === undefined) return undefined;
  return entry[protocol] ?? entry[protocol === 'tcp' ? 'udp' : 'tcp'];
}

/** The services file of `platform` (pure: the platform and environment are passed in). */
export function servicesFile(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string {
  if (platform !== 'win32') return '/etc/services';
  const root = env.SystemRoot ?? env.SYSTEMROOT ?? env.windir ?? 'C:\\Windows';
  return `${root.replace(/[\\/]+$/, '')}\\System32\\drivers\\etc\\services`;
}

/**
 * Common services, as IANA assigns them (the same ports as Debian's /etc/services): the
 * table used when the system's file cannot be read.
 */
export const BUILT_IN_SERVICES: ServiceTable = parseServices(`
ftp-data 20/tcp
ftp 21/tcp
ssh 22/tcp
telnet 23/tcp
smtp 25/tcp mail
domain 53/tcp
domain 53/udp
bootps 67/udp
tftp 69/udp
gopher 70/tcp
finger 79/tcp
http 80/tcp www
kerberos 88/tcp kerberos5 krb5
kerberos 88/udp kerberos5 krb5
pop3 110/tcp pop-3
sunrpc 111/tcp portmapper
sunrpc 111/udp portmapper
ntp 123/udp
imap2 143/tcp imap
snmp 161/udp
ldap 389/tcp
https 443/tcp
https 443/udp
microsoft-ds 445/tcp
isakmp 500/udp
syslog 514/udp
submission 587/tcp
ldaps 636/tcp
rsync 873/tcp
imaps 993/tcp
pop3s 995/tcp
openvpn 1194/tcp
openvpn 1194/udp
ms-sql-s 1433/tcp
mysql 3306/tcp
ms-wbt-server 3389/tcp rdp
svn 3690/tcp subversion
ipsec-nat-t 4500/udp
sip 5060/tcp
sip 5060/udp
xmpp-client 5222/tcp jabber-client
postgresql 5432/tcp postgres
amqp 5672/tcp
x11 6000/tcp x11-0
irc 6667/tcp
http-alt 8080/tcp webcache
`);

/**
 * The service table: the system's file when `read` can read it, else the built-in table.
 * `file` names what was used, for messages ("not in /etc/services").
 */
export async function loadServices(
  path: string,
  read: (path: string) => Promise<string>,
): Promise<{ file: string; table: ServiceTable }> {
  try {
    return { file: path, table: parseServices(await read(path)) };
  } catch {
    return {
      file: `knock's built-in table of common services (${path} could not be read)`,
      table: BUILT_IN_SERVICES,
    };
  }
}
