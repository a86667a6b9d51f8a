import { KnockError, emptyDraft, type ProfileDraft } from '@knock/shared';
import type { ProfileStore } from '@knock/shared/node';
import { createProfileStore } from '@knock/shared/node';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IpcChannels } from '../../src/ipc-channels.js';
import { parseDraft, registerProfileIpc } from '../../src/main/profile-ipc.js';
import { ipcMain, mock } from '../mocks/electron.js';
import { FakeStore, PATH, lab, maths } from '../fakes.js';

const PAGE = 'file:///opt/knock/client-desktop/src/renderer/index.html';
const own = { webContents: { id: 1 }, url: PAGE };

function setup<S extends ProfileStore = FakeStore>(
  store: S = new FakeStore([maths, lab]) as unknown as S,
  servicePort?: (name: string) => number | undefined,
) {
  let saved = 0;
  const unregister = registerProfileIpc({
    ipcMain,
    isTrusted: (event) => event.sender === own.webContents && event.senderFrame?.url === PAGE,
    store,
    onSaved: () => (saved += 1),
    ...(servicePort ? { servicePort } : {}),
  });
  const call = (channel: string, ...args: unknown[]) => mock.invoke(channel, own, ...args);
  return { store, call, savedCount: () => saved, unregister };
}

const draft = (change: Partial<ProfileDraft> = {}): ProfileDraft => ({
  ...emptyDraft(),
  host: 'new.example.org',
  sequence: '7000,8000:udp',
  ...change,
});

describe('registerProfileIpc', () => {
  it('registers exactly the channels of ipc-channels.ts, and removes them', () => {
    const { unregister } = setup();
    expect([...mock.handlers.keys()].sort()).toEqual(Object.values(IpcChannels).sort());
    unregister();
    expect(mock.handlers.size).toBe(0);
  });

  it('loads the profiles as drafts', async () => {
    // lab without a port (nothing to verify): its draft shows an empty port field.
    const { port: _port, ...labUnverified } = lab;
    const { call } = setup(new FakeStore([maths, labUnverified]));
    expect(await call(IpcChannels.load)).toEqual({
      path: PATH,
      profiles: [
        {
          host: 'ssh.maths.fr',
          sequence: '1228,1227',
          oneTimeSequences: '',
          port: '22',
          family: 'any',
          delayMs: '0',
          openFor: '',
          closeSequence: '',
          keepOpen: 'no',
        },
        {
          host: 'lab.example.org',
          sequence: '',
          oneTimeSequences: lab.oneTimeSequences,
          port: '',
          family: 'ipv4',
          delayMs: '100',
          openFor: '',
          closeSequence: '',
          keepOpen: 'no',
        },
      ],
      // A new profile's form: the page cannot import @knock/shared (it runs unbundled).
      blank: emptyDraft(),
    });
  });

  it('reports a bad file on load instead of failing', async () => {
    const store = new FakeStore([]);
    store.failLoad = new KnockError('profile.invalid', `${PATH}:4:1: error: duplicate host`);
    const { call } = setup(store);
    expect(await call(IpcChannels.load)).toEqual({
      path: PATH,
      profiles: [],
      blank: emptyDraft(),
      error: `${PATH}:4:1: error: duplicate host`,
    });
  });

  it('checks a draft with the CLI parser and saves nothing', async () => {
    const { call, store } = setup();
    expect(await call(IpcChannels.check, draft({ sequence: '7000,ssh' }), null)).toEqual({
      sequence:
        'column 6: "ssh" is not a port number: knockd reads it as port 0 (write the port number (e.g. 22 for ssh))',
    });
    expect(await call(IpcChannels.check, draft(), null)).toEqual({});
    expect(store.saves).toEqual([]);
  });

  it('saves a new profile after the others and tells the tray', async () => {
    const { call, store, savedCount } = setup();
    const result = await call(IpcChannels.save, draft(), null);
    expect(result).toMatchObject({ ok: true, saved: `saved new.example.org to ${PATH}` });
    expect(store.saves).toEqual([
      [
        maths,
        lab,
        {
          host: 'new.example.org',
          sequence: [
            { port: 7000, protocol: 'tcp' },
            { port: 8000, protocol: 'udp' },
          ],
          port: 22,
          family: 'any',
          delayMs: 0,
        },
      ],
    ]);
    expect(savedCount()).toBe(1);
  });

  it('edits in place and keeps a change made meanwhile by the CLI', async () => {
    const { call, store } = setup();
    store.profiles = [...store.profiles, { ...maths, host: 'added.by.cli' }];
    const result = await call(
      IpcChannels.save,
      { ...draft(), host: 'ssh.maths.fr', sequence: '1,2,3' },
      'ssh.maths.fr',
    );
    expect(result).toMatchObject({ ok: true });
    expect(store.saves[0]?.map((p) => p.host)).toEqual([
      'ssh.maths.fr',
      'lab.example.org',
      'added.by.cli',
    ]);
    expect(store.saves[0]?.[0]?.sequence?.map((k) => k.port)).toEqual([1, 2, 3]);
  });

  it('returns field errors for a bad draft and does not write', async () => {
    const { call, store, savedCount } = setup();
    expect(
      await call(IpcChannels.save, draft({ host: 'ssh.maths.fr', port: '99999' }), null),
    ).toEqual({
      ok: false,
      errors: {
        host: 'a profile for ssh.maths.fr already exists',
        port: 'a port from 1 to 65535 (or a service name such as ssh), or empty to skip the check',
      },
    });
    expect(store.saves).toEqual([]);
    expect(savedCount()).toBe(0);
  });

  it('refuses to write over a file it cannot read', async () => {
    const store = new FakeStore([maths]);
    store.failLoad = new KnockError('profile.invalid', `${PATH}:1:1: error: bad`);
    const { call } = setup(store);
    const result = (await call(IpcChannels.save, draft(), null)) as { ok: false; error: string };
    expect(result.ok).toBe(false);
    expect(result.error).toContain(`${PATH}:1:1: error: bad`);
    expect(result.error).toContain('saving now would overwrite it');
    expect(store.saves).toEqual([]);
  });

  it('reports a failed write', async () => {
    const store = new FakeStore([maths]);
    store.failSave = new KnockError('profile.write', 'disk full');
    const { call, savedCount } = setup(store);
    expect(await call(IpcChannels.save, draft(), null)).toEqual({
      ok: false,
      error: `could not save ${PATH}: disk full`,
    });
    expect(savedCount()).toBe(0);
  });

  it('deletes a profile', async () => {
    const { call, store } = setup();
    expect(await call(IpcChannels.remove, 'ssh.maths.fr')).toMatchObject({
      ok: true,
      saved: 'deleted ssh.maths.fr',
    });
    expect(store.saves).toEqual([[lab]]);
    expect(await call(IpcChannels.remove, 'ssh.maths.fr')).toEqual({
      ok: false,
      error: `no profile for ssh.maths.fr in ${PATH}`,
    });
  });

  it('rejects messages from anything but the profile window and its page', async () => {
    const { store } = setup();
    const stranger = { webContents: { id: 2 }, url: PAGE };
    const framed = { webContents: own.webContents, url: 'https://evil.example/' };
    for (const sender of [stranger, framed]) {
      await expect(
        Promise.resolve().then(() => mock.invoke(IpcChannels.remove, sender, 'ssh.maths.fr')),
      ).rejects.toThrow(/not from the profile window/);
    }
    expect(store.saves).toEqual([]);
  });

  it('rejects payloads of the wrong shape before reading them', async () => {
    const { call, store } = setup();
    const bad: unknown[][] = [
      [IpcChannels.save, { ...draft(), extra: 'x' }, null],
      [IpcChannels.save, { ...draft(), port: 22 }, null],
      [IpcChannels.save, { ...draft(), family: 'ipx' }, null],
      [IpcChannels.save, { ...draft(), host: 'x'.repeat(5000) }, null],
      [IpcChannels.save, draft(), 42],
      [IpcChannels.save, draft(), null, 'more'],
      [IpcChannels.save, 'host=x'],
      [IpcChannels.remove, ''],
      [IpcChannels.remove, ['ssh.maths.fr']],
      [IpcChannels.load, 'x'],
    ];
    for (const [channel, ...args] of bad) {
      await expect(Promise.resolve().then(() => call(channel as string, ...args))).rejects.toThrow(
        /knock: rejected a message/,
      );
    }
    expect(store.saves).toEqual([]);
  });
});

describe('parseDraft', () => {
  it('accepts exactly a draft', () => {
    expect(parseDraft(draft())).toEqual(draft());
    expect(parseDraft(null)).toBeUndefined();
    expect(parseDraft([])).toBeUndefined();
    const { delayMs: _, ...missing } = draft();
    expect(parseDraft(missing)).toBeUndefined();
  });

  describe('with the real profile file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'knock-tray-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const original = [
      '# my profiles: comments, order and unknown keys must survive the tray',
      '',
      '[hosts."ssh.maths.fr"]   # the lab',
      "sequence = '1228,1227'",
      'port = 22',
      'owner = "ana"   # knock does not know this key',
      '',
      '[hosts.other]',
      'sequence = "7000"',
      '',
    ].join('\n');

    it('edits only the profile it saves: comments, order, unknown keys stay; no defaults; a backup', async () => {
      const path = join(dir, 'a.toml');
      writeFileSync(path, original);
      const { call } = setup(createProfileStore(path, { env: { HOME: dir } }));
      await call(IpcChannels.load);
      const result = await call(
        IpcChannels.save,
        draft({ host: 'ssh.maths.fr', sequence: '1228,1227', port: '2222' }),
        'ssh.maths.fr',
      );
      expect(result).toMatchObject({ ok: true });
      expect(readFileSync(path, 'utf8')).toBe(original.replace('port = 22', 'port = 2222'));
      expect(readFileSync(`${path}.bak`, 'utf8')).toBe(original);
      expect(await call(IpcChannels.save, draft(), null)).toMatchObject({ ok: true });
      expect(readFileSync(path, 'utf8')).toBe(
        `${original.replace('port = 22', 'port = 2222')}\n[hosts."new.example.org"]\nsequence = "7000,8000:udp"\nport = 22\n`,
      );
      expect(await call(IpcChannels.remove, 'other')).toMatchObject({ ok: true });
      expect(readFileSync(path, 'utf8')).not.toContain('[hosts.other]');
      expect(readFileSync(path, 'utf8')).toContain('# my profiles: comments');
    });

    it('refuses to overwrite a profile another program changed since the window showed it', async () => {
      const path = join(dir, 'b.toml');
      writeFileSync(path, original);
      const { call } = setup(createProfileStore(path, { env: { HOME: dir } }));
      await call(IpcChannels.load);
      const changed = original.replace('port = 22', 'port = 23');
      writeFileSync(path, changed);
      const result = await call(
        IpcChannels.save,
        draft({ host: 'ssh.maths.fr', sequence: '1', port: '22' }),
        'ssh.maths.fr',
      );
      expect(result).toMatchObject({ ok: false });
      expect((result as { error: string }).error).toMatch(
        /was changed by another program since it was read/,
      );
      expect(readFileSync(path, 'utf8')).toBe(changed);
    });

    it('takes a service name for the verify port', async () => {
      const path = join(dir, 'c.toml');
      writeFileSync(path, original);
      const { call } = setup(createProfileStore(path, { env: { HOME: dir } }), (name) =>
        name === 'ssh' ? 22 : undefined,
      );
      expect(await call(IpcChannels.check, draft({ port: 'ssh' }), null)).toEqual({});
      expect(await call(IpcChannels.save, draft({ port: 'ssh' }), null)).toMatchObject({
        ok: true,
      });
      expect(readFileSync(path, 'utf8')).toContain(
        '[hosts."new.example.org"]\nsequence = "7000,8000:udp"\nport = 22\n',
      );
    });
  });
});
