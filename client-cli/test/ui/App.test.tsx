import { KnockError } from '@knock/shared';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from '../../src/ui/App.js';
import { FakeStore, ManualKnocker, PATH, keys, lab, maths, tick } from './fakes.js';

let cleanup: (() => void) | undefined;
// Saves and knocks settle asynchronously: wait for what the user would see.
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 2000, interval: 10 });
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

async function start(store = new FakeStore([maths, lab]), knocker = new ManualKnocker()) {
  const view = render(<App store={store} knocker={knocker} />);
  cleanup = view.unmount;
  await tick();
  const frame = () => view.lastFrame() ?? '';
  // Long status lines wrap at the terminal width: compare messages on one line.
  const flat = () => frame().replace(/\s+/g, ' ');
  const press = async (...inputs: string[]) => {
    for (const input of inputs) {
      view.stdin.write(input);
      await tick();
    }
  };
  const type = async (text: string) => {
    for (const c of text) await press(c);
  };
  return { view, store, knocker, frame, flat, press, type };
}

describe('App: the profile list', () => {
  it('shows each profile with its sequence or one-time file and its port', async () => {
    const { frame } = await start();
    await eventually(() => expect(frame()).toContain(`profiles in ${PATH}`));
    await eventually(() => expect(frame()).toMatch(/❯ ssh\.maths\.fr\s+1228,1227\s+22/));
    await eventually(() =>
      expect(frame()).toMatch(/ {2}lab\.example\.org\s+one-time: .*lab\.ots\s+2222/),
    );
  });

  it('moves the selection with arrows and j/k, and stays within the list', async () => {
    const { frame, press } = await start();
    await press(keys.down);
    await eventually(() => expect(frame()).toMatch(/❯ lab\.example\.org/));
    await press('j');
    await eventually(() => expect(frame()).toMatch(/❯ lab\.example\.org/));
    await press('k');
    await eventually(() => expect(frame()).toMatch(/❯ ssh\.maths\.fr/));
    await press(keys.up, keys.down);
    await eventually(() => expect(frame()).toMatch(/❯ lab\.example\.org/));
  });

  it('shows where the file is and how to add a profile when there is none', async () => {
    const { frame } = await start(new FakeStore([], false));
    await eventually(() => expect(frame()).toContain('No profiles yet.'));
    await eventually(() =>
      expect(frame()).toContain(`Profiles are read from ${PATH} (not created yet).`),
    );
    await eventually(() => expect(frame()).toContain('Press a to add one'));
    await eventually(() => expect(frame()).toContain('sequence = "7000,8000,9000"'));
  });

  it('shows a bad profile file with file:line, refuses edits that would overwrite it, and reloads', async () => {
    const store = new FakeStore([maths]);
    store.failLoad = new KnockError(
      'profile.invalid',
      `${PATH}:3:12: error: port 70000 is out of range`,
    );
    const { frame, press } = await start(store);
    await eventually(() => expect(frame()).toContain('Cannot use the profile file:'));
    await eventually(() =>
      expect(frame()).toContain(`${PATH}:3:12: error: port 70000 is out of range`),
    );
    expect(frame()).not.toContain('internal error');
    await press('a');
    await eventually(() => expect(frame()).toContain(`fix ${PATH} first, then press r`));
    expect(frame()).not.toContain('New profile');
    expect(store.saves).toEqual([]);
    store.failLoad = undefined;
    await press('r');
    expect(store.loads).toBe(2);
    await eventually(() => expect(frame()).toMatch(/❯ ssh\.maths\.fr\s+1228,1227\s+22/));
  });
});

describe('App: knocking', () => {
  it('knocks the selected profile and shows each knock, the check, then open', async () => {
    const { frame, press, knocker } = await start();
    await press(keys.enter);
    expect(knocker.calls.map((p) => p.host)).toEqual(['ssh.maths.fr']);
    // A relative one_time_sequences is read from the profile file's folder, as the CLI does.
    expect(knocker.options).toEqual([{ profileFile: PATH }]);
    await eventually(() => expect(frame()).toContain('ssh.maths.fr: resolving ssh.maths.fr…'));
    knocker.emit({ type: 'resolved', addresses: ['192.0.2.2'] });
    knocker.emit({ type: 'sent', knock: { port: 1228, protocol: 'tcp' }, index: 0, total: 2 });
    await tick();
    await eventually(() => expect(frame()).toContain('ssh.maths.fr: sent 1228 ✓, 1227 …'));
    knocker.emit({ type: 'sent', knock: { port: 1227, protocol: 'tcp' }, index: 1, total: 2 });
    knocker.emit({ type: 'verifying', port: 22, addresses: ['192.0.2.2'] });
    await tick();
    await eventually(() => expect(frame()).toContain('sent 1228 ✓, 1227 ✓, verifying 22…'));
    knocker.finish({ status: 'open', address: '192.0.2.2', port: 22 });
    await tick();
    await eventually(() => expect(frame()).toContain('sent 1228 ✓, 1227 ✓, open on 192.0.2.2:22'));
  });

  it('says the port is still closed, and why', async () => {
    const { flat, press, knocker } = await start();
    await press(keys.enter);
    knocker.emit({ type: 'sent', knock: { port: 1228, protocol: 'tcp' }, index: 0, total: 2 });
    knocker.emit({ type: 'sent', knock: { port: 1227, protocol: 'tcp' }, index: 1, total: 2 });
    knocker.finish({
      status: 'closed',
      port: 22,
      reason: 'port 22 did not open within 5 s (connection refused)',
    });
    await tick();
    await eventually(() =>
      expect(flat()).toContain(
        'sent 1228 ✓, 1227 ✓, still closed: port 22 did not open within 5 s (connection refused)',
      ),
    );
  });

  it('knocks one profile at a time', async () => {
    const { frame, press, knocker } = await start();
    await press(keys.enter, keys.down, keys.enter);
    expect(knocker.calls).toHaveLength(1);
    await eventually(() => expect(frame()).toContain('still knocking ssh.maths.fr…'));
    knocker.finish({ status: 'failed', reason: 'ssh.maths.fr does not resolve', exitCode: 5 });
    await tick();
    await eventually(() => expect(frame()).toContain('failed: ssh.maths.fr does not resolve'));
    await press(keys.enter);
    expect(knocker.calls.map((p) => p.host)).toEqual(['ssh.maths.fr', 'lab.example.org']);
  });
});

describe('App: adding and editing', () => {
  it('adds a profile, validating the sequence inline, and saves it to the CLI file', async () => {
    const { frame, press, type, store } = await start(new FakeStore([], false));
    await press('a');
    await eventually(() => expect(frame()).toContain('New profile'));
    await type('ssh.example.org');
    await press(keys.tab);
    await type('7000,ssh');
    await press(keys.enter);
    await eventually(() => expect(frame()).toContain('✗ column 6: "ssh" is not a port number'));
    expect(store.saves).toEqual([]);
    for (let i = 0; i < 3; i++) await press(keys.backspace);
    await type('8000:udp');
    await press(keys.down, keys.down, keys.down); // one-time file, port, family
    await press(keys.right); // any → ipv4
    await press(keys.enter);
    await eventually(() =>
      expect(store.saves).toEqual([
        [
          {
            host: 'ssh.example.org',
            sequence: [
              { port: 7000, protocol: 'tcp' },
              { port: 8000, protocol: 'udp' },
            ],
            port: 22,
            family: 'ipv4',
            delayMs: 0,
          },
        ],
      ]),
    );
    await eventually(() => expect(frame()).toMatch(/❯ ssh\.example\.org\s+7000,8000:udp\s+22/));
    await eventually(() => expect(frame()).toContain(`saved ssh.example.org to ${PATH}`));
  });

  it('edits the selected profile and keeps the keys the form does not show', async () => {
    const store = new FakeStore([{ ...maths, verifyTimeoutMs: 9000 }, lab]);
    const { frame, press, type } = await start(store);
    await press('e');
    await eventually(() => expect(frame()).toContain('Edit ssh.maths.fr'));
    await eventually(() => expect(frame()).toContain('1228,1227'));
    await press(keys.down, keys.down, keys.down); // port
    await press(keys.backspace, keys.backspace);
    await type('2222');
    await press(keys.enter);
    await eventually(() => expect(store.saves).toHaveLength(1));
    expect(store.saves[0]?.[0]).toEqual({ ...maths, port: 2222, verifyTimeoutMs: 9000 });
    expect(store.saves[0]?.[1]).toEqual(lab);
    await eventually(() => expect(frame()).toMatch(/❯ ssh\.maths\.fr\s+1228,1227\s+2222/));
  });

  it('refuses a second profile for the same host', async () => {
    const { frame, press, type, store } = await start();
    await press('a');
    await type('ssh.maths.fr');
    await press(keys.tab);
    await type('1,2,3');
    await press(keys.enter);
    await eventually(() =>
      expect(frame()).toContain('✗ a profile for ssh.maths.fr already exists'),
    );
    expect(store.saves).toEqual([]);
  });

  it('keeps the form open with what was typed when saving fails', async () => {
    const store = new FakeStore([maths]);
    store.failSave = new KnockError('profile.write', `cannot write ${PATH}: permission denied`);
    const { frame, flat, press, type } = await start(store);
    await press('a');
    await type('new.example.org');
    await press(keys.tab);
    await type('1,2');
    await press(keys.enter);
    await eventually(() =>
      expect(flat()).toContain(`could not save ${PATH}: cannot write ${PATH}: permission denied`),
    );
    await eventually(() => expect(frame()).toContain('New profile'));
    await eventually(() => expect(frame()).toContain('new.example.org'));
    await press(keys.enter);
    await eventually(() => expect(store.saves).toHaveLength(1));
    await eventually(() => expect(frame()).toContain('saved new.example.org'));
  });

  it('puts keys typed right after a into the form, even before it is drawn', async () => {
    const { view, frame, store } = await start();
    for (const c of 'a' + 'edit.me') view.stdin.write(c); // no pause: faster than React renders
    await tick();
    await eventually(() => expect(frame()).toContain('New profile'));
    await eventually(() => expect(frame()).toMatch(/Host\s+edit\.me/));
    expect(store.saves).toEqual([]);
  });

  it('handles a chunk holding text and keys, as a terminal delivers a paste', async () => {
    const { view, flat, store } = await start(new FakeStore([], false));
    view.stdin.write('a');
    view.stdin.write('pasted.example.org\t7000,ssh\r');
    await eventually(() => expect(flat()).toContain('✗ column 6: "ssh" is not a port number'));
    view.stdin.write('\x7f\x7f\x7f9000\r');
    await eventually(() => expect(store.saves).toHaveLength(1));
    expect(store.saves[0]?.[0]).toMatchObject({
      host: 'pasted.example.org',
      sequence: [
        { port: 7000, protocol: 'tcp' },
        { port: 9000, protocol: 'tcp' },
      ],
    });
  });

  it('cancels the form with Esc without saving', async () => {
    const { frame, press, type, store } = await start();
    await press('a');
    await type('x');
    await press(keys.escape);
    await tick(60);
    expect(frame()).not.toContain('New profile');
    await eventually(() => expect(frame()).toMatch(/❯ ssh\.maths\.fr/));
    expect(store.saves).toEqual([]);
  });
});

describe('App: deleting', () => {
  it('asks before deleting, and keeps the profile on n', async () => {
    const { frame, press, store } = await start();
    await press('d');
    await eventually(() =>
      expect(frame()).toContain('Delete the profile for ssh.maths.fr? yes / no'),
    );
    await press('n');
    expect(frame()).not.toContain('Delete the profile');
    expect(store.saves).toEqual([]);
  });

  it('deletes on y and saves the remaining profiles', async () => {
    const { frame, press, store } = await start();
    await press(keys.down, 'd', 'y');
    await eventually(() => expect(store.saves).toEqual([[maths]]));
    await eventually(() => expect(frame()).toContain('deleted lab.example.org'));
    expect(frame()).not.toMatch(/lab\.example\.org\s+one-time/);
  });
});

describe('App: saving keeps what others wrote (issue 9, item 1)', () => {
  it('keeps comments and a profile added by hand while the TUI was open', async () => {
    const store = new FakeStore([maths]);
    const { frame, press, type } = await start(store);
    await eventually(() => expect(frame()).toMatch(/❯ ssh\.maths\.fr/));
    // Meanwhile, in an editor:
    const byHand = `# my own notes\n${store.text}\n[hosts.byhand]   # added by hand\nsequence = "7000"\ncolour = "blue"\n`;
    store.text = byHand;
    await press('a');
    await type('new.example.org');
    await press(keys.tab);
    await type('1,2');
    await press(keys.enter);
    await eventually(() => expect(frame()).toContain('saved new.example.org'));
    expect(store.text).toBe(`${byHand}\n[hosts."new.example.org"]\nsequence = "1,2"\nport = 22\n`);
    // The list shows the file as it is now, with the profile added by hand.
    await eventually(() => expect(frame()).toContain('byhand'));
  });

  it('refuses to overwrite a profile changed elsewhere since it was shown, keeping the form', async () => {
    const store = new FakeStore([maths, lab]);
    const { frame, flat, press, type } = await start(store);
    await press('e');
    await eventually(() => expect(frame()).toContain('Edit ssh.maths.fr'));
    const changed = store.text.replace('port = 22', 'port = 2200');
    store.text = changed;
    await press(keys.down, keys.down, keys.down, keys.backspace, keys.backspace);
    await type('23');
    await press(keys.enter);
    await eventually(() =>
      expect(flat()).toContain('was changed by another program since it was read'),
    );
    expect(store.text).toBe(changed);
    expect(frame()).toContain('Edit ssh.maths.fr');
  });

  it('lists a broken profile as unusable, and still edits the others', async () => {
    const store = new FakeStore([maths]);
    store.text +=
      '\n[hosts.broken]\nsequence = "1"\nport = 0\n\n[hosts.typo]\nsequence = "2"\nprot = 22\n';
    const { frame, press } = await start(store);
    await eventually(() => expect(frame()).toMatch(/✗ broken\s+line \d+: .*port must be/));
    await eventually(() =>
      expect(frame()).toContain('1 other problem in the file: knock check-profiles lists them'),
    );
    await press('d', 'y');
    await eventually(() => expect(frame()).toContain('deleted ssh.maths.fr'));
    expect(store.text).toContain('[hosts.broken]');
    expect(store.text).not.toContain('ssh.maths.fr');
  });
});

describe('App: names like Object.prototype properties (issue 9, item 16)', () => {
  it('lists hosts and one-time files named constructor or __proto__ as plain names', async () => {
    const store = new FakeStore([
      { ...maths, host: 'constructor' },
      { host: '__proto__', oneTimeSequences: 'constructor', family: 'any', delayMs: 0 },
    ]);
    const { frame } = await start(store);
    await eventually(() => expect(frame()).toMatch(/❯ constructor\s+1228,1227\s+22\s+any/));
    await eventually(() => expect(frame()).toMatch(/ {2}__proto__\s+one-time: constructor\s/));
    expect(frame()).not.toContain('native code');
  });
});
