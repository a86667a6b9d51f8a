// @knock/shared/net: the sockets half of @knock/shared/node (resolve, send knocks, probe a
// port), without files, locks and profiles, so a plain knock loads only these. All of it
// is in '@knock/shared/node' too.
export * from './resolve.js';
export * from './sender.js';
export * from './probe.js';
