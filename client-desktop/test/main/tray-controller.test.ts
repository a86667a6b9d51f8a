import { KnockError, ExitCode } from '@knock/shared';
import { describe, expect, it } from 'vitest';
import type { MenuItem } from '../../src/main/menu-template.js';
import { TrayController, notificationFor, type TrayPorts } from '../../src/main/tray-controller.js';
import { FakeClock, FakeStore, ManualKnocker, PATH, flush, lab, maths } from '../fakes.js';

function setup(store = new FakeStore([maths, lab])) {
  const log: string[] = [];
  const menus: MenuItem[][] = [];
  const knocker = new ManualKnocker();
  const clock = new FakeClock();
  const ports: TrayPorts = {
    createTray: (tooltip) => log.push(`tray ${tooltip}`),
    setMenu: (items) => menus.push(items),
    notify: (title, body) => log.push(`notify ${title} | ${body}`),
    knock: knocker,
    openWindow: () => log.push('open window'),
    clock,
    store,
    quit: () => log.push('quit'),
  };
  const controller = new TrayController(ports);
  const labels = () => (menus.at(-1) ?? []).flatMap((i) => (i.type === 'normal' ? [i.label] : []));
  return { controller, log, menus, knocker, clock, store, labels };
}

describe('TrayController', () => {
  it('creates the tray and a menu from the profile file', async () => {
    const { controller, log, labels } = await started();
    expect(log).toEqual(['tray knock: click a host to knock']);
    expect(labels()).toEqual(['ssh.maths.fr', 'lab.example.org', 'Edit profiles…', 'Quit knock']);
    expect(controller.state.path).toBe(PATH);
  });

  it('keeps the good profiles in the menu when another one has errors', async () => {
    const store = new FakeStore([maths]);
    store.text += '\n[hosts.broken]\nsequence = "1,,2"\n';
    const { controller, labels } = setup(store);
    await controller.start();
    expect(labels()).toEqual([
      'ssh.maths.fr',
      'broken — has errors (knock check-profiles)',
      'Edit profiles…',
      'Quit knock',
    ]);
  });

  it('knocks on click, shows the progress, and notifies "open"', async () => {
    const { controller, log, labels, knocker, clock } = await started();
    const done = controller.handle({ type: 'knock', host: 'ssh.maths.fr' });
    expect(knocker.calls).toEqual([maths]);
    // A relative one_time_sequences is read from the profile file's folder, as the CLI does.
    expect(knocker.options).toEqual([{ profileFile: PATH }]);
    expect(labels()[0]).toBe('ssh.maths.fr — knocking…');
    knocker.emit({ type: 'verifying', port: 22, addresses: ['192.0.2.2'] });
    expect(labels()[0]).toBe('ssh.maths.fr — verifying port 22…');
    knocker.finish({ status: 'open', address: '192.0.2.2', port: 22 });
    await done;
    expect(log.at(-1)).toBe('notify ssh.maths.fr is open | port 22 answered on 192.0.2.2:22');
    expect(labels()[0]).toBe('ssh.maths.fr — opened 0:00 ago');
    clock.advance(65_000);
    expect(labels()[0]).toBe('ssh.maths.fr — opened 1:05 ago');
  });

  it('stops ticking once nothing shows a running time', async () => {
    const { controller, knocker, clock, menus, labels } = await started();
    const done = controller.knock('ssh.maths.fr');
    knocker.finish({ status: 'open', address: '192.0.2.2', port: 22 });
    await done;
    expect(clock.timers.size).toBe(1);
    clock.advance(60 * 60 * 1000);
    expect(labels()[0]).toBe('ssh.maths.fr');
    expect(clock.timers.size).toBe(0);
    const count = menus.length;
    clock.advance(10_000);
    expect(menus.length).toBe(count);
  });

  it('notifies what failed, and does not tick for it', async () => {
    const { controller, knocker, log, clock, labels } = await started();
    const done = controller.knock('ssh.maths.fr');
    knocker.finish({
      status: 'closed',
      port: 22,
      reason: 'port 22 did not open within 5 s (connection refused)',
    });
    expect(await done).toMatchObject({ status: 'closed' });
    expect(log.at(-1)).toBe(
      'notify ssh.maths.fr: still closed | port 22 did not open within 5 s (connection refused)',
    );
    expect(labels()[0]).toBe('ssh.maths.fr — still closed');
    expect(clock.timers.size).toBe(0);
  });

  it('ignores a second click while the knock runs', async () => {
    const { controller, knocker } = await started();
    const first = controller.knock('ssh.maths.fr');
    expect(await controller.knock('ssh.maths.fr')).toBeUndefined();
    expect(knocker.calls).toHaveLength(1);
    knocker.finish({ status: 'failed', reason: 'no route', exitCode: ExitCode.network });
    await first;
    expect(knocker.calls).toHaveLength(1);
  });

  it('opens the profile window and quits (stopping its clock)', async () => {
    const { controller, log, knocker, clock } = await started();
    await controller.handle({ type: 'edit' });
    expect(log.at(-1)).toBe('open window');
    const done = controller.knock('ssh.maths.fr');
    knocker.finish({ status: 'open', address: '192.0.2.2', port: 22 });
    await done;
    await controller.handle({ type: 'quit' });
    expect(log.at(-1)).toBe('quit');
    expect(clock.timers.size).toBe(0);
  });

  it('shows a bad profile file in the menu and a notification, then recovers on reload', async () => {
    const store = new FakeStore([maths]);
    store.failLoad = new KnockError(
      'profile.invalid',
      `${PATH}:2:1: error: unknown key "sequense"`,
      {
        hint: 'did you mean "sequence"?',
      },
    );
    const { controller, log, labels } = setup(store);
    await controller.start();
    expect(labels()[0]).toBe(`${PATH}:2:1: error: unknown key "sequense"`);
    expect(log.at(-1)).toBe(
      `notify knock: cannot read the profiles | ${PATH}:2:1: error: unknown key "sequense"\n  hint: did you mean "sequence"?`,
    );
    store.failLoad = undefined;
    await controller.reload();
    expect(labels()[0]).toBe('ssh.maths.fr');
    expect(controller.state.loadError).toBeUndefined();
  });

  it('ignores a click on a host that is no longer in the file', async () => {
    const { controller, knocker } = await started();
    expect(await controller.knock('gone.example.org')).toBeUndefined();
    expect(knocker.calls).toEqual([]);
  });
});

describe('notificationFor', () => {
  it('words every outcome', () => {
    expect(notificationFor(maths, { status: 'open', address: '2001:db8::2', port: 22 })).toEqual({
      title: 'ssh.maths.fr is open',
      body: 'port 22 answered on [2001:db8::2]:22',
    });
    expect(
      notificationFor(maths, { status: 'failed', reason: 'x does not resolve', exitCode: 5 }),
    ).toEqual({
      title: 'ssh.maths.fr: knock failed',
      body: 'x does not resolve',
    });
    expect(notificationFor(maths, { status: 'sent', addresses: ['192.0.2.2'] }).body).toBe(
      'sent 1228,1227 to 192.0.2.2; no port to verify',
    );
    expect(notificationFor(lab, { status: 'sent', addresses: ['192.0.2.2'] }).body).toBe(
      'sent the next one-time sequence to 192.0.2.2; no port to verify',
    );
  });
});

async function started() {
  const context = setup();
  await context.controller.start();
  await flush();
  return context;
}
