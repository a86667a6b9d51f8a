import { ExitCode } from '@knock/shared';
import { describe, expect, it, vi } from 'vitest';
import { runTui } from '../../src/ui/run.js';
import { FakeStore, ManualKnocker, keys, maths, tick } from './fakes.js';
import { FakeStdin, FakeStdout } from './streams.js';

async function launch() {
  const stdin = new FakeStdin();
  const stdout = new FakeStdout();
  let code: number | undefined;
  const done = runTui({
    stdin: stdin as unknown as NodeJS.ReadStream,
    stdout: stdout as unknown as NodeJS.WriteStream,
    store: new FakeStore([maths]),
    knocker: new ManualKnocker(),
  }).then((c) => (code = c));
  // Ink and the app are imported on first use: wait for the list before typing.
  await vi.waitFor(() => expect(stdout.output).toContain('ssh.maths.fr'), { timeout: 5000 });
  return { stdin, stdout, done, exitCode: () => code };
}

describe('runTui', () => {
  it.each([
    ['q', 'q', ExitCode.ok],
    ['Esc', keys.escape, ExitCode.ok],
    ['Ctrl+C', keys.ctrlC, 130],
  ])('draws the profiles and, on %s, exits %i', async (_name, key, code) => {
    const { stdin, stdout, done, exitCode } = await launch();
    expect(stdout.output).toContain('ssh.maths.fr');
    expect(stdin.rawMode).toBe(true);
    expect(exitCode()).toBeUndefined();
    stdin.write(key);
    await done;
    expect(exitCode()).toBe(code);
    expect(stdin.rawMode).toBe(false);
  });

  it('does not quit on q while typing in the form', async () => {
    const { stdin, done, exitCode } = await launch();
    stdin.write('a');
    await tick();
    stdin.write('q');
    await tick(100);
    expect(exitCode()).toBeUndefined();
    stdin.write(keys.ctrlC);
    await done;
    // Interrupted, as a shell reports a program stopped by Ctrl+C.
    expect(exitCode()).toBe(130);
  });

  it('refuses to start without a terminal, with a usage error', async () => {
    const stderr: string[] = [];
    const code = await runTui({
      stdin: new FakeStdin(false) as unknown as NodeJS.ReadStream,
      stdout: new FakeStdout() as unknown as NodeJS.WriteStream,
      stderr: { write: (text: string) => stderr.push(text) },
      store: new FakeStore([maths]),
      knocker: new ManualKnocker(),
    });
    expect(code).toBe(ExitCode.usage);
    expect(stderr.join('')).toContain('knock ui: needs an interactive terminal');
  });
});
