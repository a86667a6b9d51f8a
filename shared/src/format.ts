// Small text formats every message of knock writes the same way (pure).

/** `[2001:db8::2]:22` or `192.0.2.2:22`, for messages: an IPv6 address (it has colons) in brackets. */
export const formatEndpoint = (address: string, port: number | string): string =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

/** A duration in milliseconds as messages write it: `5 s`, `2.5 s` (one decimal at most). */
export const formatSeconds = (ms: number): string => {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
};
