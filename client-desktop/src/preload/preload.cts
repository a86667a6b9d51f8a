// Preload of the profile window. Sandboxed preloads must be CommonJS and may
// require only 'electron' (and a few Node built-ins), not our own modules: the
// channel names are repeated here, and `satisfies` makes the type checker hold
// them equal to src/ipc-channels.ts. It exposes four calls and nothing else:
// no ipcRenderer, no Node.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a sandboxed preload is CommonJS
import electron = require('electron');
import type { IpcChannels as Channels, ProfilesApi } from '../ipc-channels.js' with {
  'resolution-mode': 'import',
};

const channels = {
  load: 'knock:profiles:load',
  check: 'knock:profiles:check',
  save: 'knock:profiles:save',
  remove: 'knock:profiles:remove',
} as const satisfies typeof Channels;

const { contextBridge, ipcRenderer } = electron;

const api: ProfilesApi = {
  load: () => ipcRenderer.invoke(channels.load),
  check: (draft, original) => ipcRenderer.invoke(channels.check, draft, original),
  save: (draft, original) => ipcRenderer.invoke(channels.save, draft, original),
  remove: (host) => ipcRenderer.invoke(channels.remove, host),
};

contextBridge.exposeInMainWorld('knockProfiles', api);
