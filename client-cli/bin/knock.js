#!/usr/bin/env node
// Launcher for `knock`: runs the compiled entry point (built by `npm run build` or scripts/setup.sh).
try {
  await import('../dist/bin/knock.js');
} catch (error) {
  // Worked out only on failure: a URL object at every start costs a few milliseconds.
  const entry = new URL('../dist/bin/knock.js', import.meta.url);
  // Only the entry itself missing means "not built" (a missing dependency is another error).
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || error.url !== entry.href) throw error;
  const { fileURLToPath } = await import('node:url');
  process.stderr.write(
    'knock: not built yet (' +
      fileURLToPath(entry) +
      ' is missing).\n' +
      'Run `npm run build` (or scripts/setup.sh) in the knock checkout, then try again.\n',
  );
  process.exit(70);
}
