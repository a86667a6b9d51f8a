// @knock/shared/core: what a plain `knock HOST PORT…` needs from @knock/shared (exit
// codes, errors, sequences, profile lookup), without the knockd.conf parser and the
// one-time-sequence generator, so the client starts fast. All of it is in '@knock/shared' too.
export * from './exit-codes.js';
export * from './errors.js';
export * from './sequence.js';
export * from './profile.js';
export * from './services.js';
