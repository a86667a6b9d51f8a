// Whitespace as knockd's C sees it, for the parsers of its files (knockd.conf, one-time
// sequences). Internal: not exported from the package.

/** C's isspace() in the C locale: what knockd's trim() removes. JS trim() removes more (NBSP, BOM…). */
export const isCSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

/** How many isspace() characters `s` starts with. */
export function leadingSpace(s: string): number {
  let i = 0;
  while (i < s.length && isCSpace(s[i])) i++;
  return i;
}

/** `s` without isspace() characters at either end. */
export function cTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isCSpace(s[start])) start++;
  while (end > start && isCSpace(s[end - 1])) end--;
  return s.slice(start, end);
}
