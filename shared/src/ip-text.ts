/**
 * inet_ntop(AF_INET6)'s text for eight 16-bit words (the BIND algorithm glibc and libuv
 * share): lowercase hex without leading zeros, the first longest run of two or more zero
 * groups as `::`, and `::a.b.c.d` / `::ffff:a.b.c.d` for IPv4-compatible and -mapped
 * addresses. knockd compares addresses as these strings, so the config parser and the
 * packet decoder must spell them alike.
 */
export function formatIpv6Words(words: ArrayLike<number>): string {
  let bestBase = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestBase = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) bestBase = -1;
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLength) {
      if (i === bestBase) text += ':';
      continue;
    }
    if (i !== 0) text += ':';
    if (
      i === 6 &&
      bestBase === 0 &&
      (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff))
    ) {
      const a = words[6] ?? 0;
      const b = words[7] ?? 0;
      return `${text}${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
    }
    text += (words[i] ?? 0).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLength === 8) text += ':';
  return text;
}
