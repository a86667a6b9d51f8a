import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { IpcChannels, type ProfilesApi } from '../../src/ipc-channels.js';

const source = fileURLToPath(new URL('../../src/preload/preload.cts', import.meta.url));

/**
 * Runs the preload as Electron's sandbox does: CommonJS, with a `require` that
 * knows only 'electron'. Asking for anything else (one of our modules, a Node
 * built-in) throws here as it would there.
 */
async function runPreload() {
  const { outputText } = ts.transpileModule(await readFile(source, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    fileName: source,
  });
  const exposed = new Map<string, unknown>();
  const invoked: unknown[][] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => exposed.set(key, value) },
    ipcRenderer: {
      invoke: (...args: unknown[]) => {
        invoked.push(args);
        return Promise.resolve('answer');
      },
    },
  };
  const required: string[] = [];
  const module = { exports: {} };
  runInNewContext(outputText, {
    module,
    exports: module.exports,
    require: (name: string) => {
      required.push(name);
      if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
      return electron;
    },
  });
  return { exposed, invoked, required };
}

describe('preload', () => {
  it('needs nothing but electron, so it runs sandboxed', async () => {
    const { required } = await runPreload();
    expect(required).toEqual(['electron']);
  });

  it('exposes only the four profile calls, each on its channel from ipc-channels.ts', async () => {
    const { exposed, invoked } = await runPreload();
    expect([...exposed.keys()]).toEqual(['knockProfiles']);
    const api = exposed.get('knockProfiles') as ProfilesApi;
    expect(Object.keys(api).sort()).toEqual(['check', 'load', 'remove', 'save']);
    const draft = {
      host: 'h',
      sequence: '1',
      oneTimeSequences: '',
      port: '',
      family: 'any',
      delayMs: '0',
      openFor: '',
      closeSequence: '',
      keepOpen: 'no',
    } as const;
    await expect(api.load()).resolves.toBe('answer');
    await api.check(draft, null);
    await api.save(draft, 'old.host');
    await api.remove('h');
    expect(invoked).toEqual([
      [IpcChannels.load],
      [IpcChannels.check, draft, null],
      [IpcChannels.save, draft, 'old.host'],
      [IpcChannels.remove, 'h'],
    ]);
  });
});
