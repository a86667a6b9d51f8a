// The /etc/services parser lives in @knock/shared (the TUI and the tray's profile form take
// service names for the verify port too); re-exported here for the CLI.
export { lookupService, parseServices, type ServiceTable } from '@knock/shared/core';
