import { defineConfig } from 'vitest/config';

// Each workspace is a vitest project. The '@knock/source' export condition makes
// `import '@knock/shared'` resolve to the TypeScript sources, so tests need no build.
// (In vitest 4 the condition only takes effect as ssr.resolve.conditions.)
const project = (
  name: string,
  extra: { include?: string[]; testTimeout?: number; setupFiles?: string[] } = {},
) => ({
  extends: true as const,
  test: {
    name,
    root: `./${name}`,
    include: ['test/**/*.test.{ts,tsx}'],
    ...extra,
  },
});

export default defineConfig({
  ssr: { resolve: { conditions: ['@knock/source'] } },
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      project('shared'),
      project('server'),
      project('client-cli'),
      project('client-desktop', { setupFiles: ['./test/setup.ts'] }),
      // Real packets, namespaces, daemons: slower, and serialised (they share the host's netns names).
      project('test', { include: ['**/*.test.ts'], testTimeout: 120_000 }),
    ],
  },
});
