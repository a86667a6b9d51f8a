import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mock } from '../mocks/electron.js';

// main.ts is the one module that imports electron; setup.ts swaps in the mock,
// so importing it here runs the real wiring against the real profile file.
describe('main.ts', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knock-tray-'));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts the tray from $KNOCK_CONFIG with the (mocked) electron module, and follows the file', async () => {
    const file = join(dir, 'config.toml');
    await writeFile(
      file,
      '[hosts."ssh.maths.fr"]\nsequence = "1228,1227"\nport = 22\n\n[hosts."lab.example.org"]\nsequence = "7000:udp"\n',
    );
    vi.stubEnv('KNOCK_CONFIG', file);
    await import('../../src/main/main.js');
    await vi.waitFor(() =>
      expect(mock.menuLabels()).toEqual([
        'ssh.maths.fr',
        'lab.example.org',
        '---',
        'Knock all',
        'Open at login',
        'Edit profiles…',
        'Quit knock',
      ]),
    );
    expect([...mock.handlers.keys()]).toHaveLength(4);
    expect(mock.appListeners.has('will-quit')).toBe(true);

    // A save by the CLI (temp file + rename) shows up in the menu without a restart.
    await writeFile(join(dir, 'config.toml.tmp'), '[hosts."added.by.cli"]\nsequence = "1,2,3"\n');
    await rename(join(dir, 'config.toml.tmp'), file);
    await vi.waitFor(() => expect(mock.menuLabels()[0]).toBe('added.by.cli'), { timeout: 3000 });
    expect(mock.menuLabels()).not.toContain('ssh.maths.fr');
  });
});
