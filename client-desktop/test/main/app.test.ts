import { emptyDraft } from '@knock/shared';
import { createServer, type Server } from 'node:net';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IpcChannels } from '../../src/ipc-channels.js';
import { PATHS, startApp, trayIconPath, type ElectronApi } from '../../src/main/app.js';
import * as electron from '../mocks/electron.js';
import { FakeClock, FakeStore, ManualKnocker, flush, lab, maths } from '../fakes.js';

const { mock } = electron;
const api = electron as unknown as ElectronApi;
const PAGE_URL = pathToFileURL(PATHS.page).href;

async function start(store = new FakeStore([maths, lab]), knocker = new ManualKnocker()) {
  const running = await startApp(api, { env: {}, store, knocker, clock: new FakeClock() });
  if (!running) throw new Error('the app did not start');
  return { running, store, knocker };
}

function openWindow() {
  mock.click('Edit profiles…');
  const window = mock.windows.at(-1);
  if (!window) throw new Error('no window');
  return window;
}

describe('startApp', () => {
  it('puts a tray with one entry per profile', async () => {
    await start();
    expect(mock.trays).toHaveLength(1);
    expect(mock.images).toEqual([trayIconPath('idle', false)]);
    expect(mock.trays[0]?.tooltip).toBe('knock: click a host to knock');
    expect(mock.menuLabels()).toEqual([
      'ssh.maths.fr',
      'lab.example.org',
      '---',
      'Knock all',
      'Open at login',
      'Edit profiles…',
      'Quit knock',
    ]);
  });

  it('keeps running when the window closes, and quits from the menu', async () => {
    await start();
    expect(mock.appListeners.has('window-all-closed')).toBe(true);
    expect(mock.quits).toBe(0);
    mock.click('Quit knock');
    expect(mock.quits).toBe(1);
  });

  it('leaves the tray to an instance that already runs', async () => {
    mock.singleInstance = false;
    expect(
      await startApp(api, { env: {}, store: new FakeStore(), knocker: new ManualKnocker() }),
    ).toBeUndefined();
    expect(mock.trays).toEqual([]);
    expect(mock.quits).toBe(1);
  });

  it('opens one sandboxed profile window on our page, and refuses navigation and popups', async () => {
    const { running } = await start();
    const window = openWindow();
    expect(window.options).toMatchObject({
      show: false,
      webPreferences: {
        preload: PATHS.preload,
        sandbox: true,
        contextIsolation: true,
        nodeIntegration: false,
      },
    });
    expect(PATHS.preload).toMatch(/preload[/\\]preload\.cjs$/);
    expect(window.loaded).toBe(PATHS.page);
    window.emit('ready-to-show');
    expect(window.visible).toBe(true);
    expect(window.webContents.openHandler?.()).toEqual({ action: 'deny' });
    const navigation = { prevented: false, preventDefault: () => (navigation.prevented = true) };
    window.webContents.emit('will-navigate', navigation);
    expect(navigation.prevented).toBe(true);
    // A second click focuses the same window.
    mock.click('Edit profiles…');
    expect(mock.windows).toHaveLength(1);
    expect(window.focused).toBe(true);
    expect(running.profileWindow()).toBe(window);
  });

  it('answers IPC only from its own window, and only while it is open', async () => {
    await start();
    const window = openWindow();
    const load = (sender: { webContents: unknown; url: string }) =>
      Promise.resolve().then(() => mock.invoke(IpcChannels.load, sender));
    await expect(load({ webContents: window.webContents, url: PAGE_URL })).resolves.toMatchObject({
      profiles: [{ host: 'ssh.maths.fr' }, { host: 'lab.example.org' }],
    });
    await expect(load({ webContents: {}, url: PAGE_URL })).rejects.toThrow(
      /not from the profile window/,
    );
    await expect(
      load({ webContents: window.webContents, url: 'file:///tmp/other.html' }),
    ).rejects.toThrow(/not from the profile window/);
    window.close();
    await expect(load({ webContents: window.webContents, url: PAGE_URL })).rejects.toThrow(
      /not from the profile window/,
    );
    // After closing, the menu opens a fresh window.
    expect(openWindow()).not.toBe(window);
  });

  it('reloads the tray menu after the window saved a profile', async () => {
    const { store } = await start();
    const window = openWindow();
    const draft = { ...emptyDraft(), host: 'new.example.org', sequence: '7000,8000' };
    const result = await mock.invoke(
      IpcChannels.save,
      { webContents: window.webContents, url: PAGE_URL },
      draft,
      null,
    );
    expect(result).toMatchObject({ ok: true });
    expect(store.saves).toHaveLength(1);
    await vi.waitFor(() => expect(mock.menuLabels()).toContain('new.example.org'));
  });

  it('notifies the outcome of a click', async () => {
    const { knocker } = await start();
    mock.click('ssh.maths.fr');
    expect(knocker.calls.map((p) => p.host)).toEqual(['ssh.maths.fr']);
    expect(mock.menuLabels()[0]).toBe('ssh.maths.fr — knocking… (disabled)');
    knocker.finish({ status: 'failed', reason: 'ssh.maths.fr does not resolve', exitCode: 5 });
    await flush();
    expect(mock.notifications).toEqual([
      { title: 'ssh.maths.fr: knock failed', body: 'ssh.maths.fr does not resolve' },
    ]);
  });
});

describe('startApp with the real knock, on loopback', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('knocks 127.0.0.1, finds the port open and says so', async () => {
    const store = new FakeStore([
      {
        host: '127.0.0.1',
        sequence: [{ port, protocol: 'udp' }],
        port,
        family: 'ipv4',
        delayMs: 0,
        verifyTimeoutMs: 2000,
      },
    ]);
    const running = await startApp(api, { env: {}, store, clock: new FakeClock() });
    mock.click('127.0.0.1');
    await vi.waitFor(() => expect(mock.notifications).toHaveLength(1), { timeout: 3000 });
    expect(mock.notifications[0]).toEqual({
      title: '127.0.0.1 is open',
      body: `port ${port} answered on 127.0.0.1:${port}`,
    });
    expect(mock.menuLabels()[0]).toBe('127.0.0.1 — opened 0:00 ago');
    running?.controller.stop();
  });
});
