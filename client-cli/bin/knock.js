#!/usr/bin/env node
// Launcher for `knock`: runs the compiled entry point (built by `npm run build` or scripts/setup.sh).
const entry = new URL('../dist/bin/knock.js', import.meta.url);
try {
  await import(entry.href);
} catch (error) {
  // Checked only on failure, so that a start costs no extra file lookup.
  const { fileURLToPath } = await import('node:url');
  const path = fileURLToPath(entry);
  // Only the entry itself missing means "not built" (a missing dependency is another error).
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || error.url !== entry.href) throw error;
  process.stderr.write(
    'knock: not built yet (' +
      path +
      ' is missing).\n' +
      'Run `npm run build` (or scripts/setup.sh) in the knock checkout, then try again.\n',
  );
  process.exit(70);
}
