// A hand-written stand-in for the parts of Electron the tray app uses. Anything
// else throws, so a test fails loudly when the code starts using an API the
// mock (and so the test) does not know about. `mock` records what happened;
// setup.ts resets it before each test.
import { EventEmitter } from 'node:events';

/** What Electron passes an ipcMain.handle listener, reduced to what the app reads. */
interface InvokeEvent {
  sender: unknown;
  senderFrame: { url: string } | null;
}
type Listener = (event: InvokeEvent, ...args: unknown[]) => unknown;

const PROBES = new Set(['then', 'toJSON', 'asymmetricMatch', 'nodeType', 'tagName', 'props']);

/** Wraps an object so that reading a property it does not define throws. */
function strict<T extends object>(target: T, name: string): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (typeof property === 'symbol' || property in object)
        return Reflect.get(object, property, receiver);
      // Promise resolution and vitest's matchers and pretty-printer probe these.
      if (PROBES.has(property) || property.startsWith('@@') || property.startsWith('$$'))
        return undefined;
      throw new Error(`electron mock: ${name}.${property} is not mocked`);
    },
  });
}

export const mock = {
  singleInstance: true,
  quits: 0,
  trays: [] as MockTray[],
  windows: [] as MockBrowserWindow[],
  notifications: [] as { title: string; body: string; click?: () => void; buttons?: string[] }[],
  handlers: new Map<string, Listener>(),
  appListeners: new Map<string, (...args: unknown[]) => void>(),
  images: [] as string[],
  /** app.setLoginItemSettings({ openAtLogin }) calls, in order. */
  loginItem: false,
  loginSets: [] as boolean[],
  darkPanel: false,
  reset(): void {
    this.singleInstance = true;
    this.quits = 0;
    this.trays = [];
    this.windows = [];
    this.notifications = [];
    this.handlers.clear();
    this.appListeners.clear();
    this.images = [];
  },
  /** The labels of the last menu set on the tray, with `(disabled)` marks. */
  menuLabels(): string[] {
    const menu = this.trays.at(-1)?.menu;
    if (!menu) throw new Error('electron mock: no tray menu yet');
    return menu.template.map((item) =>
      item.type === 'separator'
        ? '---'
        : `${item.label ?? ''}${item.enabled === false ? ' (disabled)' : ''}`,
    );
  },
  /** Clicks the tray menu item whose label starts with `label`. */
  click(label: string): void {
    const item = this.trays.at(-1)?.menu?.template.find((i) => i.label?.startsWith(label));
    if (!item?.click) throw new Error(`electron mock: no clickable menu item "${label}"`);
    item.click();
  },
  /** Calls an IPC handler as Electron would for a message from `sender`. */
  invoke(
    channel: string,
    sender: { webContents: unknown; url: string },
    ...args: unknown[]
  ): unknown {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`electron mock: no handler for ${channel}`);
    return handler({ sender: sender.webContents, senderFrame: { url: sender.url } }, ...args);
  },
};

interface TemplateItem {
  type?: string;
  label?: string;
  enabled?: boolean;
  click?: () => void;
}

class MockMenu {
  constructor(readonly template: TemplateItem[]) {}
}

export const Menu = strict(
  {
    buildFromTemplate: (template: TemplateItem[]) => new MockMenu(template),
  },
  'Menu',
);

class MockTray {
  tooltip = '';
  menu: MockMenu | undefined;
  constructor(readonly image: unknown) {
    const tray = strict(this, 'Tray');
    mock.trays.push(tray);
    return tray;
  }
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  setContextMenu(menu: MockMenu): void {
    this.menu = menu;
  }
  image2: unknown;
  setImage(image: unknown): void {
    this.image2 = image;
  }
}
export const Tray = MockTray;

class MockNotification {
  click: (() => void) | undefined;
  constructor(
    private readonly options: { title: string; body: string; actions?: { text: string }[] },
  ) {
    return strict(this, 'Notification');
  }
  static isSupported(): boolean {
    return true;
  }
  on(event: string, listener: () => void): this {
    if (event === 'click' || event === 'action') this.click = listener;
    return this;
  }
  show(): void {
    const click = this.click;
    mock.notifications.push({
      title: this.options.title,
      body: this.options.body,
      ...(click ? { click } : {}),
      ...(this.options.actions ? { buttons: this.options.actions.map((a) => a.text) } : {}),
    });
  }
}
export const Notification = MockNotification;

class MockWebContents extends EventEmitter {
  openHandler: (() => { action: string }) | undefined;
  setWindowOpenHandler(handler: () => { action: string }): void {
    this.openHandler = handler;
  }
}

class MockBrowserWindow extends EventEmitter {
  readonly webContents = strict(new MockWebContents(), 'webContents');
  loaded: string | undefined;
  visible = false;
  focused = false;
  destroyed = false;
  constructor(readonly options: Record<string, unknown>) {
    super();
    const window = strict(this, 'BrowserWindow');
    mock.windows.push(window);
    return window;
  }
  loadFile(path: string): Promise<void> {
    this.loaded = path;
    return Promise.resolve();
  }
  show(): void {
    this.visible = true;
  }
  focus(): void {
    this.focused = true;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  close(): void {
    this.destroyed = true;
    this.emit('closed');
  }
}
export const BrowserWindow = MockBrowserWindow;

export const ipcMain = strict(
  {
    handle(channel: string, listener: Listener): void {
      if (mock.handlers.has(channel))
        throw new Error(`electron mock: a handler for ${channel} is already registered`);
      mock.handlers.set(channel, listener);
    },
    removeHandler(channel: string): void {
      mock.handlers.delete(channel);
    },
  },
  'ipcMain',
);

export const nativeImage = strict(
  {
    createFromPath(path: string) {
      mock.images.push(path);
      return { path };
    },
  },
  'nativeImage',
);

export const app = strict(
  {
    requestSingleInstanceLock: () => mock.singleInstance,
    whenReady: () => Promise.resolve(),
    on(event: string, listener: (...args: unknown[]) => void) {
      mock.appListeners.set(event, listener);
      return app;
    },
    quit(): void {
      mock.quits += 1;
    },
    getLoginItemSettings: () => ({ openAtLogin: mock.loginItem }),
    setLoginItemSettings(settings: { openAtLogin: boolean }): void {
      mock.loginSets.push(settings.openAtLogin);
      mock.loginItem = settings.openAtLogin;
    },
    exit(code: number): never {
      throw new Error(`electron mock: app.exit(${code}) called`);
    },
  },
  'app',
);

export const nativeTheme = strict(
  {
    get shouldUseDarkColors() {
      return mock.darkPanel;
    },
    on: () => nativeTheme,
  },
  'nativeTheme',
);

export type MockWindow = MockBrowserWindow;
