import { describeError, loadServices, lookupService, servicesFile } from '@knock/shared';
import * as sharedNode from '@knock/shared/node';
import type { KnockService, ProfileStore } from '@knock/shared/node';
import type * as Electron from 'electron';
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { toElectronMenu } from './electron-menu.js';
import { registerProfileIpc, type IpcEventLike } from './profile-ipc.js';
import type { TrayIconState } from './menu-template.js';
import { TrayController, type Clock, type TrayDeps } from './tray-controller.js';

/** The Electron APIs the app uses; main.ts passes the real ones, tests the mock. */
export type ElectronApi = Pick<
  typeof Electron,
  'app' | 'BrowserWindow' | 'ipcMain' | 'Menu' | 'Notification' | 'Tray' | 'nativeImage'
> &
  Partial<Pick<typeof Electron, 'nativeTheme'>>;

export interface AppOptions {
  env: NodeJS.ProcessEnv;
  /** Replaces the real knock (tests). */
  knocker?: KnockService;
  store?: ProfileStore;
  clock?: Clock;
  /** The service-name table (default /etc/services). */
  servicesFile?: string;
  /** Calls `onChange` when the profile file changes on disk; returns a stop function. */
  watchFile?: (path: string, onChange: () => void) => () => void;
}

export interface RunningApp {
  controller: TrayController;
  /** The profile window, while it is open. */
  profileWindow(): Electron.BrowserWindow | undefined;
}

const file = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

/** Built files, relative to dist/main/app.js (and to src/main/app.ts, for the page and icon). */
export const PATHS = {
  preload: file('../preload/preload.cjs'),
  page: file('../../src/renderer/index.html'),
  icon: file('../../assets/tray.png'),
};

/** The tray icon of a state, drawn for the panel's colour (scripts/tray-icons.mjs). */
export const trayIconPath = (state: TrayIconState, darkPanel: boolean): string =>
  file(`../../assets/tray-${state}-${darkPanel ? 'dark' : 'light'}.png`);

const realClock: Clock = {
  now: () => Date.now(),
  every: (ms, tick) => {
    const timer = setInterval(tick, ms);
    return () => clearInterval(timer);
  },
};

/**
 * Wires the tray app: one instance, a tray whose menu the TrayController
 * drives, notifications, and the sandboxed profile window with its IPC.
 * Resolves once the tray is up; undefined when another instance already runs.
 */
export async function startApp(
  electron: ElectronApi,
  options: AppOptions,
): Promise<RunningApp | undefined> {
  const { app, BrowserWindow, ipcMain, Menu, Notification, Tray, nativeImage, nativeTheme } =
    electron;
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return undefined;
  }
  await app.whenReady();
  // A tray app lives on when its window closes.
  app.on('window-all-closed', () => undefined);

  const store = options.store ?? profileFile(options.env);
  // The platform's services file, else the built-in table (as the command line does).
  const { table: services } = await loadServices(
    options.servicesFile ?? servicesFile(process.platform, process.env),
    (path) => readFile(path, 'utf8'),
  );
  const knocker =
    options.knocker ??
    sharedNode.createKnockService({ ...sharedNode, now: sharedNode.clientClock(options.env) });

  let tray: Electron.Tray | undefined;
  let shownIcon: string | undefined;
  let window: Electron.BrowserWindow | undefined;
  const pageUrl = pathToFileURL(PATHS.page).href;

  const openWindow = () => {
    if (window && !window.isDestroyed()) {
      window.show();
      window.focus();
      return;
    }
    const created = new BrowserWindow({
      width: 760,
      height: 560,
      title: 'knock profiles',
      show: false,
      autoHideMenuBar: true,
      webPreferences: {
        preload: PATHS.preload,
        sandbox: true,
        contextIsolation: true,
        nodeIntegration: false,
      },
    });
    // The page never navigates nor opens windows: refuse both.
    created.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    created.webContents.on('will-navigate', (event) => event.preventDefault());
    created.once('ready-to-show', () => created.show());
    created.on('closed', () => {
      if (window === created) window = undefined;
    });
    window = created;
    void created.loadFile(PATHS.page);
  };

  const controller: TrayController = new TrayController({
    createTray: (tooltip) => {
      shownIcon = trayIconPath('idle', nativeTheme?.shouldUseDarkColors ?? false);
      tray = new Tray(nativeImage.createFromPath(shownIcon));
      tray.setToolTip(tooltip);
    },
    setMenu: (items) =>
      tray?.setContextMenu(
        Menu.buildFromTemplate(toElectronMenu(items, (action) => void controller.handle(action))),
      ),
    notify: (title, body, action) => notify(Notification, title, body, action),
    setTooltip: (text) => tray?.setToolTip(text),
    setIcon: (state) => {
      // The icon follows the panel: a dark door on a light panel, a light one on a dark panel.
      const path = trayIconPath(state, nativeTheme?.shouldUseDarkColors ?? false);
      if (path !== shownIcon) tray?.setImage(nativeImage.createFromPath(path));
      shownIcon = path;
    },
    loginItem: {
      get: () => app.getLoginItemSettings().openAtLogin,
      set: (open) => app.setLoginItemSettings({ openAtLogin: open }),
    },
    knock: knocker,
    openWindow,
    clock: options.clock ?? realClock,
    store,
    quit: () => app.quit(),
  });

  registerProfileIpc({
    ipcMain,
    // Only our window, showing our page (not a frame or a page it was tricked into loading).
    isTrusted: (event: IpcEventLike) =>
      window !== undefined &&
      !window.isDestroyed() &&
      event.sender === window.webContents &&
      event.senderFrame !== null &&
      event.senderFrame.url.split('#')[0] === pageUrl,
    store,
    onSaved: () => void controller.reload(),
    // Service names for the verify port, as the CLI takes them.
    servicePort: (name) => lookupService(services, name, 'tcp'),
  });

  await controller.start();
  // Edits made with the CLI, the TUI or an editor show up in the menu without a restart.
  const stopWatching = (options.watchFile ?? watchProfileFile)(store.path, () => {
    void controller.reload();
  });
  app.on('will-quit', stopWatching);
  return { controller, profileWindow: () => window };
}

/** A desktop notification (TrayDeps.notify), when the platform has them. */
function notify(
  Notification: ElectronApi['Notification'],
  ...[title, body, action]: Parameters<TrayDeps['notify']>
): void {
  if (!Notification.isSupported()) return;
  // The button shows where the platform has them (macOS); a click works everywhere.
  const note = new Notification(
    action ? { title, body, actions: [{ type: 'button', text: action.label }] } : { title, body },
  );
  if (action) {
    note.on('click', action.run);
    note.on('action', action.run);
  }
  note.show();
}

/** The profile file the CLI reads: $KNOCK_CONFIG, else the XDG config path. */
function profileFile(env: NodeJS.ProcessEnv): ProfileStore {
  return sharedNode.createProfileStore(sharedNode.profilesPath(env), { env });
}

/**
 * Watches the directory, not the file: saves replace the file by a rename, which
 * a watch on the old file would miss. Bursts (temp file, rename) are coalesced.
 * A missing directory is not watched (nothing to show until the first save).
 */
export function watchProfileFile(path: string, onChange: () => void): () => void {
  const name = basename(path);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, 150);
    });
    watcher.on('error', () => watcher.close());
    return () => {
      clearTimeout(timer);
      watcher.close();
    };
  } catch {
    return () => undefined;
  }
}

/** For main.ts: one line on stderr, never a stack trace. */
export const startupFailure = (error: unknown): string =>
  `knock tray: ${describeError(error).text}`;
