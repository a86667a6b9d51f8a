/**
 * `[2001:db8::2]:22` or `192.0.2.2:22`, for messages. (The same as @knock/shared/node's
 * formatEndpoint; kept here so that printing never loads the socket half of shared.)
 */
export const formatEndpoint = (address: string, port: number | string): string =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
