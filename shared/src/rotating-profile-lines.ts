import type { ProfileRotating } from './rotating-profile.js';

// No imports with a run-time cost: profile.ts (part of the client's fast start) uses this.

/** The TOML lines of a profile's rotating settings (`quote` writes a TOML string). */
export function rotatingProfileLines(r: ProfileRotating, quote: (s: string) => string): string[] {
  const lines: string[] = [];
  if (r.secretFile !== undefined) lines.push(`secret_file = ${quote(r.secretFile)}`);
  if (r.secret !== undefined) lines.push(`secret = ${quote(r.secret)}`);
  lines.push(`door = ${quote(r.door)}`);
  lines.push(`length = ${r.length}`);
  lines.push(`step = ${r.step}`);
  lines.push(`ports = ${quote(`${r.low}-${r.high}`)}`);
  if (r.protocols !== 'tcp') lines.push(`protocols = ${quote(r.protocols)}`);
  return lines;
}
