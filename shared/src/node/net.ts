// @knock/shared/net: the sockets half of @knock/shared/node (resolve, send knocks, probe a
// port), without files, locks and profiles, so a plain knock loads only these. All of it
// is in '@knock/shared/node' too.
export * from './resolve.js';
export * from './sender.js';
export * from './probe.js';
// The knock flow itself (no I/O of its own): the command line loads it with the sockets.
export { knockHost, type KnockRequest, type KnockSent } from './knock-service.js';
// The clients' clock for rotating profiles ($KNOCK_CLOCK_OFFSET).
export { clientClock } from './client-clock.js';
