/**
 * What a `Revoke = DOOR,…` door does when a knocker completes it: the built-in grants the
 * named doors made for that knocker go now (only those doors' ports, through the firewall
 * API, so a backend that shares grants shares revocations too), and the named doors'
 * pending stop commands for that knocker run now instead of after Cmd_Timeout.
 */
import type { Door, KnockdConfig, PortSpec } from '@knock/shared';
import type { Firewall } from '../firewall/index.js';
import type { Logger } from './log.js';

export interface RevokeDeps {
  /** The config running now (door names are looked up in it at knock time). */
  config: () => KnockdConfig | undefined;
  firewall: () => Firewall | undefined;
  /** DoorActions.runPendingNow. */
  runPendingNow: (door: string, src: string) => Promise<boolean>;
  log: Logger;
}

const showPorts = (ports: readonly PortSpec[]) =>
  ports.map((p) => `${p.port}/${p.protocol}`).join(',');

/** Every grant and pending stop of `src` from the doors `door` revokes. Never rejects. */
export async function revokeFor(door: Door, src: string, deps: RevokeDeps): Promise<void> {
  const names = door.revoke ?? [];
  if (names.length === 0) return;
  const doors = deps.config()?.doors ?? [];
  const extra = { src, door: door.name };
  const ports = new Map<string, PortSpec>();
  for (const name of names)
    for (const target of doors.filter((d) => d.name === name))
      for (const p of target.openPorts ?? []) ports.set(`${p.port}/${p.protocol}`, p);
  const work: Promise<unknown>[] = names.map((name) => deps.runPendingNow(name, src));
  if (ports.size > 0) {
    const list = [...ports.values()];
    const firewall = deps.firewall();
    if (!firewall) {
      deps.log.error(
        'error',
        `${src}: ${door.name}: no firewall backend: ${showPorts(list)} not revoked`,
        extra,
      );
    } else {
      work.push(
        firewall.revoke(src, list).then(
          () =>
            deps.log.info(
              'command',
              `${src}: ${door.name}: revoked ${showPorts(list)} (granted by ${names.join(', ')})`,
              extra,
            ),
          (error: unknown) =>
            deps.log.error(
              'commandFailed',
              `${src}: ${door.name}: could not revoke ${showPorts(list)}: ${(error as Error).message}`,
              extra,
            ),
        ),
      );
    }
  }
  await Promise.all(work);
}
