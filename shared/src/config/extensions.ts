// The extension report: which of knock's extensions a config uses (knockd 0.8 rejects them).
import { clusterDirectiveValues } from './cluster-options.js';
import type { KnockdConfig } from './types.js';

/** The extension directives a config uses (empty: knockd 0.8 can run it as is). */
export function extensionsUsed(config: KnockdConfig): string[] {
  const used = new Set<string>();
  if (config.options.firewall !== undefined) used.add('Firewall');
  if (config.options.trustedFile !== undefined) used.add('Trusted_File');
  if (config.options.controlSocket !== undefined) used.add('Control_Socket');
  if (config.options.metricsListen !== undefined) used.add('Metrics_Listen');
  if (config.options.interface?.includes(',')) used.add('Interface (several interfaces)');
  for (const [name] of clusterDirectiveValues(config.options)) used.add(name);
  for (const door of config.doors) {
    if (door.openPorts !== undefined) used.add('Open_Ports');
    if (door.openTimeout !== undefined) used.add('Open_Timeout');
    if (door.ban !== undefined) used.add('Ban');
    if (door.revoke !== undefined) used.add('Revoke');
    if (door.rotating !== undefined) used.add('Sequence_Secret (rotating sequences)');
  }
  return [...used];
}
