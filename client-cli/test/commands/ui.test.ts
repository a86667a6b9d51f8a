import { describe, expect, it, vi } from 'vitest';
import { ExitCode } from '@knock/shared';
import type { TuiModule } from '@knock/client-cli';
import { run } from '../helpers/fake-deps.js';

const tui = (code: number) => {
  const runTui = vi.fn<TuiModule['runTui']>(async () => code);
  return { runTui, loadTui: async () => ({ runTui }) };
};

describe('knock ui, and knock alone in a terminal', () => {
  it('knock ui runs the TUI with the profile path, exit code from it', async () => {
    const { runTui, loadTui } = tui(0);
    const { code } = await run(['ui', '-c', '/tmp/p.toml'], { tui: loadTui });
    expect(code).toBe(0);
    expect(runTui).toHaveBeenCalledWith({ env: { HOME: '/home/u' }, path: '/tmp/p.toml' });
  });

  it('knock with no arguments in a terminal opens the TUI', async () => {
    const { runTui, loadTui } = tui(3);
    const { code } = await run([], { tui: loadTui, interactive: true });
    expect(code).toBe(3);
    expect(runTui).toHaveBeenCalledOnce();
  });

  it('without the TUI in the build: one clear line, non-zero', async () => {
    const { code, stderr } = await run(['ui']);
    expect(code).toBe(ExitCode.failure);
    expect(stderr).toBe(
      'knock: the terminal UI is not part of this build\n  hint: use knock HOST [PORT...] and knock list instead\n',
    );
  });
});
