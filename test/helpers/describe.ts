/**
 * `describe` blocks that need something this machine may not have (root, network
 * namespaces, a Debian package): skipped with the reason in the title, so a run that
 * was not root says so instead of passing quietly.
 */
import { describe } from 'vitest';
import { netnsSkipReason } from './netns.js';

/** The title a block shows: `title (skipped: reason)` when it is skipped. */
export const skipTitle = (title: string, reason: string | undefined): string =>
  reason === undefined ? title : `${title} (skipped: ${reason})`;

/** `describe(title, body)`, or skipped with `reason` in the title when there is one. */
export function describeUnless(reason: string | undefined, title: string, body: () => void): void {
  describe.skipIf(reason !== undefined)(skipTitle(title, reason), body);
}

/** A block that sends real packets in network namespaces (root and iproute2). */
export function describeNetns(title: string, body: () => void): void {
  describeUnless(netnsSkipReason, title, body);
}
