import { formatEndpoint, type Knock } from '@knock/shared';
import type { KnockRun } from './state.js';

export const formatKnock = (k: Knock): string =>
  k.protocol === 'udp' ? `${k.port}:udp` : String(k.port);

/**
 * The live status line of a knock: `sent 1228 ✓, 1227 ✓, verifying 22…`, then
 * `open on 192.0.2.2:22` or `still closed: <reason>`.
 */
export function describeRun(run: KnockRun): string {
  const knocks = run.knocks.map((k, i) => `${formatKnock(k)} ${i < run.sent ? '✓' : '…'}`);
  const sent = knocks.length > 0 ? `sent ${knocks.join(', ')}` : '';
  const join = (...parts: string[]) => parts.filter((p) => p !== '').join(', ');
  switch (run.phase) {
    case 'resolving':
      return `resolving ${run.host}…`;
    case 'knocking':
      return sent === '' ? 'knocking…' : sent;
    case 'verifying':
      return join(sent, `verifying ${run.port ?? ''}…`);
    case 'open':
      return join(sent, `open on ${formatEndpoint(run.detail ?? run.host, run.port ?? 0)}`);
    case 'closed':
      return join(sent, `still closed: ${run.detail ?? 'no answer'}`);
    case 'sent':
      return join(sent, 'no port to verify (set one with e)');
    case 'failed':
      return join(sent, `failed: ${run.detail ?? 'unknown error'}`);
  }
}
