// @knock/client-desktop: the tray app's testable parts (main/main.ts is the Electron entry).
export { startApp, type AppOptions, type ElectronApi, type RunningApp } from './main/app.js';
export {
  TrayController,
  notificationFor,
  type Clock,
  type TrayPorts,
} from './main/tray-controller.js';
export {
  menuTemplate,
  formatElapsed,
  type MenuAction,
  type MenuItem,
  type TrayRun,
  type TrayState,
} from './main/menu-template.js';
export {
  registerProfileIpc,
  type IpcMainLike,
  type ProfileIpcOptions,
} from './main/profile-ipc.js';
export {
  IpcChannels,
  type ProfilesApi,
  type ProfilesView,
  type SaveResult,
} from './ipc-channels.js';
// The knock service lives in @knock/shared/node (the CLI's TUI uses it too); re-exported under the names this package always had.
export {
  createKnockService,
  type KnockOutcome,
  type KnockPorts,
  type KnockServiceProgress as KnockProgress,
  type KnockService,
} from '@knock/shared/node';
export type { ProfileStore } from '@knock/shared/node';
