import { describe, expect, it } from 'vitest';
import { interactiveSignals, programFor } from '../src/platform.js';
import { BUILT_IN_SERVICES, loadServices, lookupService, servicesFile } from '../src/services.js';

describe('programFor', () => {
  it('ssh is ssh.exe on Windows, ssh elsewhere', () => {
    expect(programFor('ssh', 'win32')).toBe('ssh.exe');
    expect(programFor('ssh.exe', 'win32')).toBe('ssh.exe');
    expect(programFor('ssh', 'linux')).toBe('ssh');
    expect(programFor('ssh', 'darwin')).toBe('ssh');
  });
});

describe('interactiveSignals', () => {
  // The signals libuv can deliver on Windows (Node's docs, "Signal events").
  const WINDOWS = new Set(['SIGINT', 'SIGBREAK', 'SIGHUP', 'SIGWINCH']);
  it('on Windows, only signals Windows has', () => {
    const signals = interactiveSignals('win32').map(([s]) => s);
    expect(signals.filter((s) => !WINDOWS.has(s))).toEqual([]);
    expect(signals).toContain('SIGINT');
  });
  it('on Unix, the terminal keys are ignored and SIGTERM/SIGHUP passed on to ssh', () => {
    for (const platform of ['linux', 'darwin'] as const)
      expect(Object.fromEntries(interactiveSignals(platform))).toEqual({
        SIGINT: 'ignore',
        SIGQUIT: 'ignore',
        SIGTERM: 'forward',
        SIGHUP: 'forward',
      });
  });
});

describe('services file and built-in table', () => {
  it('is /etc/services on Unix and under %SystemRoot% on Windows', () => {
    expect(servicesFile('linux', {})).toBe('/etc/services');
    expect(servicesFile('darwin', { SystemRoot: 'D:\\Win' })).toBe('/etc/services');
    expect(servicesFile('win32', { SystemRoot: 'D:\\Win\\' })).toBe(
      'D:\\Win\\System32\\drivers\\etc\\services',
    );
    expect(servicesFile('win32', {})).toBe('C:\\Windows\\System32\\drivers\\etc\\services');
  });

  it('an unreadable file falls back to the built-in table, and says so', async () => {
    const missing = () => Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
    const { file, table } = await loadServices('/etc/services', missing);
    expect(file).toBe(
      "knock's built-in table of common services (/etc/services could not be read)",
    );
    expect(lookupService(table, 'ssh', 'tcp')).toBe(22);
    expect(lookupService(table, 'rdp', 'tcp')).toBe(3389);
    expect(lookupService(table, 'domain', 'udp')).toBe(53);
  });

  it('a readable file is used as it is (no built-in names mixed in)', async () => {
    const { file, table } = await loadServices('/x/services', async () => 'myservice 4242/tcp\n');
    expect(file).toBe('/x/services');
    expect(lookupService(table, 'myservice', 'tcp')).toBe(4242);
    expect(lookupService(table, 'ssh', 'tcp')).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')(
    "agrees with this machine's /etc/services on every name both have",
    async () => {
      const { readFile } = await import('node:fs/promises');
      const { table, file } = await loadServices('/etc/services', (p) => readFile(p, 'utf8'));
      if (file !== '/etc/services') return;
      const disagree = [...BUILT_IN_SERVICES].flatMap(([name, ports]) =>
        (['tcp', 'udp'] as const)
          .filter((p) => ports[p] !== undefined && table.get(name)?.[p] !== undefined)
          .filter((p) => table.get(name)?.[p] !== ports[p])
          .map((p) => `${name}/${p}`),
      );
      expect(disagree).toEqual([]);
    },
  );
});
