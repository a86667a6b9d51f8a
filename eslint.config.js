// One lint setup for the whole monorepo: @eslint/js + typescript-eslint, prettier owns formatting.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const ioModules = [
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:dgram',
  'node:child_process',
  'node:dns',
  'cap',
  'electron',
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '**/*.d.ts'] },
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
  // The pure core imports no I/O (DESIGN.md: a pure core with thin shells).
  {
    files: ['shared/src/**/*.ts', 'server/src/detect/**/*.ts', 'server/src/core/**/*.ts'],
    ignores: ['shared/src/node/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioModules.map((name) => ({
            name,
            message: 'pure code: take this effect as an injected port',
          })),
        },
      ],
    },
  },
  // Only capture/cap-source.ts may import cap; only main/main.ts may load electron.
  {
    files: ['server/src/**/*.ts'],
    ignores: ['server/src/capture/cap-source.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'cap', message: 'only capture/cap-source.ts imports cap' }] },
      ],
    },
  },
  {
    files: ['client-desktop/src/**/*.ts'],
    ignores: ['client-desktop/src/main/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'only main/main.ts loads electron; use import type elsewhere',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  // Entry points and scripts may end the process.
  {
    files: ['**/bin/**/*.{js,ts}', 'scripts/**/*.{js,ts}', '**/test/**/*.{ts,tsx}'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  prettier,
);
