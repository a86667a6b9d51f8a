// @knock/shared/node: the Node I/O half of shared (sockets, files, locks).
// parseProfiles lives in '@knock/shared/profiles' so a plain knock does not load its TOML parser.
export * from './resolve.js';
export * from './sender.js';
export * from './probe.js';
export * from './atomic-file.js';
export * from './lock.js';
export * from './ots-file.js';
export * from './profiles.js';
export * from './knock-service.js';
export * from './profile-store.js';
export * from './rotating-secret.js';
export * from './rotating-knock.js';
export type { EditOptions } from './profile-edit.js';
export type { ProfilesParse } from './profiles-parse.js';
