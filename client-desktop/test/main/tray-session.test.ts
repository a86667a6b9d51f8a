// Issue 12 in the tray (mocked electron for the app, fake ports and clock for the
// controller): the countdown in the menu and the tooltip, the notification a minute before
// a grant runs out with "Knock again", "Close" per opened host, "Knock all", "Open at
// login", and the icon states.
import type { Profile } from '@knock/shared';
import { describe, expect, it } from 'vitest';
import { startApp, trayIconPath, type ElectronApi } from '../../src/main/app.js';
import type { MenuItem, TrayIconState } from '../../src/main/menu-template.js';
import { TrayController, type TrayDeps } from '../../src/main/tray-controller.js';
import * as electron from '../mocks/electron.js';
import { FakeClock, FakeStore, ManualKnocker, flush, lab, maths } from '../fakes.js';

const session: Profile = {
  ...maths,
  openFor: 300,
  closeSequence: [{ port: 9000, protocol: 'tcp' }],
};

function setup(profiles: Profile[] = [session, lab], login = false) {
  const notes: { title: string; body: string; button?: string; click?: () => void }[] = [];
  const menus: MenuItem[][] = [];
  const tooltips: string[] = [];
  const icons: TrayIconState[] = [];
  const logins: boolean[] = [];
  let loginState = login;
  const knocker = new ManualKnocker();
  const clock = new FakeClock();
  const ports: TrayDeps = {
    createTray: () => undefined,
    setMenu: (items) => menus.push(items),
    notify: (title, body, action) =>
      notes.push({ title, body, ...(action ? { button: action.label, click: action.run } : {}) }),
    setTooltip: (text) => tooltips.push(text),
    setIcon: (state) => icons.push(state),
    loginItem: {
      get: () => loginState,
      set: (open) => {
        logins.push(open);
        loginState = open;
      },
    },
    knock: knocker,
    openWindow: () => undefined,
    clock,
    store: new FakeStore(profiles),
    quit: () => undefined,
  };
  const controller = new TrayController(ports);
  const items = () => menus.at(-1) ?? [];
  const labels = () => items().flatMap((i) => (i.type === 'separator' ? [] : [i.label]));
  return { controller, notes, tooltips, icons, logins, knocker, clock, labels, items };
}

async function opened() {
  const t = setup();
  await t.controller.start();
  const done = t.controller.knock(session.host);
  t.knocker.finish({ status: 'open', address: '192.0.2.2', port: 22 });
  await done;
  return t;
}

describe('tray: session-scoped access', () => {
  it('counts the grant down in the menu entry and the tooltip', async () => {
    const { labels, tooltips, clock } = await opened();
    expect(labels()[0]).toBe('ssh.maths.fr — open, 5:00 left');
    expect(tooltips.at(-1)).toBe('ssh.maths.fr: open, 5:00 left');
    clock.advance(48_000);
    expect(labels()[0]).toBe('ssh.maths.fr — open, 4:12 left');
    expect(tooltips.at(-1)).toBe('ssh.maths.fr: open, 4:12 left');
    clock.advance(252_000);
    expect(labels()[0]).toBe('ssh.maths.fr');
    expect(tooltips.at(-1)).toBe('knock: click a host to knock');
  });

  it('a minute before the end: one notification, whose click knocks again', async () => {
    const { notes, clock, knocker, labels } = await opened();
    clock.advance(239_000);
    expect(notes).toHaveLength(1);
    clock.advance(1000);
    expect(notes).toHaveLength(2);
    expect(notes[1]).toMatchObject({
      title: 'ssh.maths.fr: 1 minute left',
      body: 'The door closes soon. Click to knock again.',
      button: 'Knock again',
    });
    clock.advance(30_000);
    expect(notes).toHaveLength(2);
    notes[1]!.click?.();
    expect(knocker.calls).toHaveLength(2);
    knocker.finish({ status: 'open', address: '192.0.2.2', port: 22 });
    await flush();
    expect(labels()[0]).toBe('ssh.maths.fr — open, 5:00 left');
  });

  it('"Close ssh.maths.fr" knocks the close sequence and ends the countdown', async () => {
    const { controller, labels, knocker, notes, items } = await opened();
    expect(labels()).toContain('Close ssh.maths.fr');
    // lab has no close_sequence: no Close entry for it.
    expect(labels().filter((l) => l.startsWith('Close'))).toEqual(['Close ssh.maths.fr']);
    const close = items().find((i) => i.type === 'normal' && i.label === 'Close ssh.maths.fr');
    const done = controller.handle(close!.type === 'normal' ? close!.action! : { type: 'quit' });
    expect(knocker.options.at(-1)).toMatchObject({ mode: 'close' });
    knocker.finish({ status: 'sent', addresses: ['192.0.2.2'] });
    await done;
    expect(notes.at(-1)).toEqual({
      title: 'ssh.maths.fr: closed',
      body: 'knocked the close sequence to 192.0.2.2',
    });
    expect(labels()[0]).toBe('ssh.maths.fr');
    expect(labels()).not.toContain('Close ssh.maths.fr');
  });

  it('"Knock all" knocks every profile, one after the other', async () => {
    const { controller, knocker, notes } = setup();
    await controller.start();
    const done = controller.handle({ type: 'knock-all' });
    expect(knocker.calls.map((p) => p.host)).toEqual(['ssh.maths.fr']);
    knocker.finish({ status: 'open', address: '192.0.2.2', port: 22 });
    await flush();
    expect(knocker.calls.map((p) => p.host)).toEqual(['ssh.maths.fr', 'lab.example.org']);
    knocker.finish({ status: 'failed', reason: 'no route', exitCode: 5 });
    await done;
    expect(notes.map((n) => n.title)).toEqual([
      'ssh.maths.fr is open',
      'lab.example.org: knock failed',
    ]);
  });

  it('"Open at login" shows the login item and toggles it', async () => {
    const { controller, items, logins } = setup(undefined, false);
    await controller.start();
    const entry = () => items().find((i) => i.type === 'checkbox');
    expect(entry()).toMatchObject({ label: 'Open at login', checked: false });
    await controller.handle({ type: 'login', open: true });
    expect(logins).toEqual([true]);
    expect(entry()).toMatchObject({ checked: true, action: { type: 'login', open: false } });
  });

  it('the icon: idle, knocking, open, failed', async () => {
    const { controller, icons, knocker, clock } = setup();
    await controller.start();
    expect(icons.at(-1)).toBe('idle');
    const done = controller.knock(session.host);
    expect(icons.at(-1)).toBe('knocking');
    knocker.finish({ status: 'open', address: '192.0.2.2', port: 22 });
    await done;
    expect(icons.at(-1)).toBe('open');
    clock.advance(1000);
    const failing = controller.knock(lab.host);
    knocker.finish({ status: 'closed', port: 2222, reason: 'no answer' });
    await failing;
    expect(icons.at(-1)).toBe('failed');
    // The last outcome shows until the next knock: a good one turns it back to open.
    clock.advance(1000);
    const again = controller.knock(lab.host);
    knocker.finish({ status: 'open', address: '192.0.2.3', port: 2222 });
    await again;
    expect(icons.at(-1)).toBe('open');
    // Once every grant ran out (and the opened line's hour is over): idle.
    clock.advance(60 * 60 * 1000);
    await controller.reload();
    expect(icons.at(-1)).toBe('idle');
  });
});

describe('tray app (mocked electron): icons, tooltip, login item', () => {
  it('sets the state icon for the panel, the countdown tooltip, and the login item', async () => {
    const { mock } = electron;
    mock.darkPanel = true;
    mock.loginItem = false;
    const knocker = new ManualKnocker();
    const clock = new FakeClock();
    const running = await startApp(electron as unknown as ElectronApi, {
      env: {},
      store: new FakeStore([session]),
      knocker,
      clock,
    });
    const tray = mock.trays.at(-1)!;
    expect(mock.images.at(-1)).toBe(trayIconPath('idle', true));
    const done = running!.controller.knock(session.host);
    expect(mock.images.at(-1)).toBe(trayIconPath('knocking', true));
    knocker.finish({ status: 'open', address: '192.0.2.2', port: 22 });
    await done;
    expect(mock.images.at(-1)).toBe(trayIconPath('open', true));
    expect(tray.tooltip).toBe('ssh.maths.fr: open, 5:00 left');
    await running!.controller.handle({ type: 'login', open: true });
    expect(mock.loginSets).toEqual([true]);
    // The warning a minute before: a "Knock again" button whose click knocks again.
    expect(mock.notifications.at(-1)).toMatchObject({ title: 'ssh.maths.fr is open' });
    clock.advance(240_000);
    const warning = mock.notifications.at(-1)!;
    expect(warning).toMatchObject({
      title: 'ssh.maths.fr: 1 minute left',
      buttons: ['Knock again'],
    });
    warning.click?.();
    expect(knocker.calls).toHaveLength(2);
    mock.darkPanel = false;
  });

  it('every icon state exists for both panels, as a PNG', async () => {
    const { readFileSync } = await import('node:fs');
    for (const state of ['idle', 'knocking', 'open', 'failed'] as const)
      for (const dark of [false, true]) {
        const png = readFileSync(trayIconPath(state, dark));
        expect(png.subarray(1, 4).toString()).toBe('PNG');
        expect(png.readUInt32BE(16)).toBe(32);
      }
  });
});
