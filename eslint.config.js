// One lint setup for the whole monorepo: @eslint/js + typescript-eslint, prettier owns formatting.
//
// The dependency rules of DESIGN.md are enforced here with no-restricted-imports. In a flat
// config a later block that sets the same rule for a file replaces the earlier options (it
// does not merge them), so every source file falls in exactly ONE `area` below, and each area
// lists everything it may not import. test/lint/boundaries.test.ts feeds each area a violating
// import and checks the rule fires.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Node modules that do I/O: the pure core takes these effects injected instead. */
const ioModules = [
  'fs',
  'fs/promises',
  'net',
  'dgram',
  'child_process',
  'dns',
  'dns/promises',
  'os',
  'http',
  'https',
  'tls',
  'worker_threads',
  'readline',
].flatMap((name) => [name, `node:${name}`]);

const msg = {
  io: 'pure code: take this effect as injected deps (DESIGN.md: a pure core with thin shells)',
  sharedNode: 'pure code may not use @knock/shared/node (Node I/O)',
  cap: 'only server/src/capture/cap-module.ts imports cap',
  electron: 'only client-desktop/src/main/main.ts (and the preload) load electron',
  server: 'clients and shared never import the server',
  clients: 'the server and shared never import a client',
  detector: 'the detector is pure: it takes events and returns actions, it knows no I/O layer',
  renderer: 'the profile window runs in the page: no Node, no electron, talk through the preload',
  firewall:
    'the firewall is what the daemon, actions, cluster and cli use: it imports none of them',
};

const serverImports = {
  paths: [{ name: '@knock/server', message: msg.server }],
  patterns: [{ group: ['@knock/server/*', '**/server/src/**'], message: msg.server }],
};
const clientImports = {
  paths: ['@knock/client-cli', '@knock/client-desktop'].map((name) => ({
    name,
    message: msg.clients,
  })),
  patterns: [
    {
      group: ['@knock/client-*/*', '**/client-cli/src/**', '**/client-desktop/src/**'],
      message: msg.clients,
    },
  ],
};

/** One area: the files it covers and what they may not import. */
function area(files, ignores, { paths = [], patterns = [] }) {
  return {
    files,
    ignores,
    rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
  };
}
const names = (list, message, extra = {}) => list.map((name) => ({ name, message, ...extra }));
const join = (...parts) => ({
  paths: parts.flatMap((p) => p.paths ?? []),
  patterns: parts.flatMap((p) => p.patterns ?? []),
});

const pure = {
  paths: [...names(ioModules, msg.io), ...names(['@knock/shared/node'], msg.sharedNode)],
};
const noCap = { paths: names(['cap'], msg.cap) };
const noElectron = { paths: names(['electron'], msg.electron) };
const noElectronValues = { paths: names(['electron'], msg.electron, { allowTypeImports: true }) };

export const areas = {
  // @knock/shared's pure part: no I/O, and it is below both sides.
  sharedPure: area(
    ['shared/src/**/*.{ts,tsx}'],
    ['shared/src/node/**'],
    join(pure, noCap, noElectron, serverImports, clientImports),
  ),
  sharedNode: area(
    ['shared/src/node/**/*.{ts,tsx}'],
    [],
    join(noCap, noElectron, serverImports, clientImports),
  ),
  // The detector: pure, and blind to capture, actions, firewall and the daemon.
  detector: area(
    ['server/src/detect/**/*.ts'],
    [],
    join(pure, noCap, noElectron, clientImports, {
      patterns: [
        {
          group: ['**/capture/**', '**/actions/**', '**/firewall/**', '**/daemon/**', '**/cli/**'],
          message: msg.detector,
        },
      ],
    }),
  ),
  capModule: area(['server/src/capture/cap-module.ts'], [], join(noElectron, clientImports)),
  server: area(
    ['server/src/**/*.ts'],
    ['server/src/detect/**', 'server/src/capture/cap-module.ts', 'server/src/firewall/**'],
    join(noCap, noElectron, clientImports),
  ),
  // The built-in firewall: below the daemon, the door actions, the cluster and `fw` (cli/).
  firewall: area(
    ['server/src/firewall/**/*.ts'],
    [],
    join(noCap, noElectron, clientImports, {
      patterns: [
        {
          group: ['**/cli/**', '**/daemon/**', '**/actions/**', '**/cluster/**', '**/bin/**'],
          message: msg.firewall,
        },
      ],
    }),
  ),
  cli: area(['client-cli/src/**/*.{ts,tsx}'], [], join(noCap, noElectron, serverImports)),
  desktopMain: area(
    ['client-desktop/src/main/main.ts', 'client-desktop/src/preload/**'],
    [],
    join(noCap, serverImports),
  ),
  renderer: area(
    ['client-desktop/src/renderer/**/*.ts'],
    [],
    join(noCap, noElectron, serverImports, {
      paths: names(['@knock/shared/node'], msg.renderer),
      patterns: [
        {
          group: ['node:*', ...ioModules.filter((m) => !m.startsWith('node:'))],
          message: msg.renderer,
        },
      ],
    }),
  ),
  desktop: area(
    ['client-desktop/src/**/*.ts'],
    [
      'client-desktop/src/main/main.ts',
      'client-desktop/src/preload/**',
      'client-desktop/src/renderer/**',
    ],
    join(noCap, noElectronValues, serverImports),
  ),
};

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'coverage/**',
      '**/*.d.ts',
      'test/lint/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/ban-ts-comment': [
        'error',
        { 'ts-expect-error': 'allow-with-description' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']",
          message: 'Set process.exitCode and return; only bin/ entry points may end the process.',
        },
      ],
    },
  },
  // Type-aware rules for every TypeScript file (each lies in a tsconfig project): a promise
  // nobody awaits or catches is an unhandled rejection waiting for a signal or timer path.
  {
    files: ['**/*.{ts,tsx,mts,cts}'],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['vitest.config.ts'] } },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  ...Object.values(areas),
  // Entry points and scripts may end the process.
  {
    files: ['**/bin/**/*.{js,ts}', 'scripts/**/*.{js,ts}', '**/test/**/*.{ts,tsx}'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  prettier,
);
