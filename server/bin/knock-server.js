#!/usr/bin/env node
// Launcher for `knock-server`: runs the compiled entry point (built by `npm run build` or scripts/setup.sh).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/bin/knock-server.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'knock-server: not built yet (' +
      fileURLToPath(entry) +
      ' is missing).\n' +
      'Run `npm run build` (or scripts/setup.sh) in the knock checkout, then try again.\n',
  );
  process.exit(70);
}
await import(entry.href);
