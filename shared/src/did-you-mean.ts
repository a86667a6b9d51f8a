/**
 * "Did you mean …?": the one edit distance of the project, for the hints of the config
 * parser (directive names, Revoke door names) and the profile parser (profile keys).
 */

/** Levenshtein distance (insertions, deletions, substitutions), by UTF-16 code unit. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      row[j] = Math.min(
        above + 1,
        (row[j - 1] ?? 0) + 1,
        diagonal + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

/**
 * The candidate closest to `key` once both are normalised (e.g. upper-cased), if it is
 * close enough to be a typo: at most max(2, a third of the key's length) edits away. The
 * first of equally close candidates wins.
 */
export function closest(
  key: string,
  candidates: readonly string[],
  normalise: (text: string) => string = (text) => text,
): string | undefined {
  const wanted = normalise(key);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(wanted, normalise(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}
