import type { ProfileRotating } from './rotating-profile.js';

// No imports with a run-time cost: profile.ts (part of the client's fast start) uses this.

/** A profile's rotating keys and their TOML values, in ROTATING_PROFILE_KEYS order. */
export function rotatingProfileEntries(
  r: ProfileRotating,
  quote: (s: string) => string,
): ['secret_file' | 'secret' | 'door' | 'length' | 'step' | 'ports' | 'protocols', string][] {
  const entries: ReturnType<typeof rotatingProfileEntries> = [];
  if (r.secretFile !== undefined) entries.push(['secret_file', quote(r.secretFile)]);
  if (r.secret !== undefined) entries.push(['secret', quote(r.secret)]);
  entries.push(['door', quote(r.door)]);
  entries.push(['length', String(r.length)]);
  entries.push(['step', String(r.step)]);
  entries.push(['ports', quote(`${r.low}-${r.high}`)]);
  if (r.protocols !== 'tcp') entries.push(['protocols', quote(r.protocols)]);
  return entries;
}

/** The TOML lines of a profile's rotating settings (`quote` writes a TOML string). */
export function rotatingProfileLines(r: ProfileRotating, quote: (s: string) => string): string[] {
  return rotatingProfileEntries(r, quote).map(([key, value]) => `${key} = ${value}`);
}
