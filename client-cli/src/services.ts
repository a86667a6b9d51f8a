// The services parser and its built-in fallback live in @knock/shared (the TUI and the tray's
// profile form take service names for the verify port too); re-exported here for the CLI.
export {
  BUILT_IN_SERVICES,
  loadServices,
  lookupService,
  parseServices,
  servicesFile,
  type ServiceTable,
} from '@knock/shared/core';
