// @knock/shared: the pure vocabulary of knock (no node: I/O here; see ./node for that).
export * from './exit-codes.js';
export * from './errors.js';
export * from './sequence.js';
export * from './knock-event.js';
export * from './config/types.js';
export * from './config/parse.js';
export * from './config/rotating-door.js';
export * from './config/lint.js';
export * from './config/serialize.js';
export * from './ots.js';
export * from './profile.js';
export * from './profile-draft.js';
export * from './services.js';
export * from './ip-text.js';
export * from './rotating.js';
export * from './rotating-profile.js';
export * from './rotating-profile-lines.js';
