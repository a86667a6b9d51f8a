/**
 * Service names as ports, the way knockd's client accepts them (`knock host ssh`
 * hits 22). Node has no getservbyname, so /etc/services is read and parsed here:
 * `name port/proto [aliases…] [# comment]`.
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
