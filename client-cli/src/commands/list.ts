import { describeSequence } from '@knock/shared';
import type { CliDeps } from '../deps.js';
import { loadProfileFile } from '../knock-flow.js';

/** `knock list`: the profiles, and which file they come from. */
export async function runList(deps: CliDeps, options: { config?: string }): Promise<void> {
  // A file named by -c or $KNOCK_CONFIG must exist; only the default may be missing.
  const file = await loadProfileFile(deps, options.config);
  if (!file.exists) {
    deps.stdout.write(
      `no profiles: ${file.path} does not exist\n` +
        `(profiles are read from $KNOCK_CONFIG, else $XDG_CONFIG_HOME/knock/config.toml; see knock --help)\n`,
    );
    return;
  }
  deps.stdout.write(`profiles in ${file.path}:\n`);
  if (file.profiles.length === 0) {
    deps.stdout.write('  (none)\n');
    return;
  }
  const rows = file.profiles.map((p) => [
    p.host,
    describeSequence(p),
    p.port === undefined ? '-' : `port ${p.port}`,
    p.family,
    p.delayMs > 0 ? `delay ${p.delayMs} ms` : '',
  ]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  for (const row of rows)
    deps.stdout.write(
      `  ${row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
}
