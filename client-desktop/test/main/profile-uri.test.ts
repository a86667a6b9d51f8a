import { emptyDraft } from '@knock/shared';
import { describe, expect, it } from 'vitest';
import { IpcChannels } from '../../src/ipc-channels.js';
import { registerProfileIpc } from '../../src/main/profile-ipc.js';
import { ipcMain, mock } from '../mocks/electron.js';
import { FakeStore, maths } from '../fakes.js';

const PAGE = 'file:///opt/knock/client-desktop/src/renderer/index.html';
const own = { webContents: { id: 1 }, url: PAGE };
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe("the tray's profile window and knock:// URIs", () => {
  it('a URI pasted as the sequence saves a rotating profile, host and port from the URI', async () => {
    const store = new FakeStore([maths]);
    const unregister = registerProfileIpc({
      ipcMain,
      isTrusted: (event) => event.sender === own.webContents && event.senderFrame?.url === PAGE,
      store,
      onSaved: () => undefined,
    });
    const uri = `knock://ssh.example.org?door=ssh&secret=${SECRET}&step=60&port=2222`;
    const result = await mock.invoke(
      IpcChannels.save,
      own,
      { ...emptyDraft(), host: '', port: '', sequence: uri },
      null,
    );
    expect(result).toMatchObject({ ok: true });
    expect(store.saves.at(-1)?.at(-1)).toEqual({
      host: 'ssh.example.org',
      family: 'any',
      delayMs: 0,
      port: 2222,
      rotating: {
        secret: SECRET,
        door: 'ssh',
        length: 4,
        step: 60,
        low: 10000,
        high: 65000,
        protocols: 'tcp',
      },
    });
    const bad = await mock.invoke(
      IpcChannels.save,
      own,
      { ...emptyDraft(), host: 'x', sequence: 'knock://x?door=ssh&secret=ABC' },
      null,
    );
    expect(bad).toMatchObject({
      ok: false,
      errors: { sequence: expect.stringMatching(/secret=/) },
    });
    unregister();
  });
});
