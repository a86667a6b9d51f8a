import { ExitCode, KnockError } from '@knock/shared/core';
import type { CliDeps } from '../deps.js';

/** Loads the ink TUI (only here: a plain knock never loads ink or React) and runs it. */
export async function runUi(deps: CliDeps, configPath: string | undefined): Promise<void> {
  let tui;
  try {
    tui = await deps.loadTui();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && /ui[\\/]run\.js/.test(String(error)))
      throw new KnockError('knock.ui.missing', 'the terminal UI is not part of this build', {
        exitCode: ExitCode.failure,
        hint: 'use knock HOST [PORT...] and knock list instead',
      });
    throw error;
  }
  const code = await tui.runTui({
    env: deps.env,
    ...(configPath !== undefined ? { path: configPath } : {}),
  });
  deps.setExitCode(code);
}
