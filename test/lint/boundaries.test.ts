// The architecture's "never" rules (DESIGN.md; eslint.config.js) fire: each area of the tree
// is fed an import it must refuse, and the files it may import stay allowed.
import { ESLint } from 'eslint';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

// The dependency rules are syntactic: lint virtual files without the type-aware parser
// (the project service only knows files that exist).
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false, project: null } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
    },
  },
});

async function importErrors(file: string, specifier: string, typeOnly = false): Promise<string[]> {
  const code = typeOnly
    ? `import type { X } from '${specifier}';\nexport type Y = X;\n`
    : `import * as m from '${specifier}';\nexport const y = m;\n`;
  const [result] = await eslint.lintText(code, { filePath: resolve(root, file) });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.fatal)
    .map((m) => m.message);
}

// [file in the area, import it must refuse, words of the message]
const never: [string, string, string][] = [
  // the detector knows no I/O layer
  ['server/src/detect/x.ts', '../capture/decode.js', 'detector is pure'],
  ['server/src/detect/x.ts', '../actions/door-actions.js', 'detector is pure'],
  ['server/src/detect/x.ts', '../firewall/index.js', 'detector is pure'],
  ['server/src/detect/x.ts', '../daemon/daemon.js', 'detector is pure'],
  ['server/src/detect/x.ts', 'node:fs', 'pure code'],
  ['server/src/detect/x.ts', 'node:child_process', 'pure code'],
  ['server/src/detect/x.ts', '@knock/shared/node', 'pure code'],
  ['server/src/detect/x.ts', 'cap', 'cap'],
  // the firewall is below the daemon, actions, cluster and the command line that use it
  ['server/src/firewall/x.ts', '../cli/leaf-options.js', 'the firewall is what'],
  ['server/src/firewall/x.ts', '../daemon/daemon.js', 'the firewall is what'],
  ['server/src/firewall/x.ts', '../actions/door-actions.js', 'the firewall is what'],
  ['server/src/firewall/x.ts', '../cluster/index.js', 'the firewall is what'],
  ['server/src/firewall/x.ts', 'cap', 'imports cap'],
  ['server/src/firewall/x.ts', '@knock/client-cli', 'never import a client'],
  // shared's pure part: no node I/O, never the server or a client
  ['shared/src/x.ts', 'node:fs', 'pure code'],
  ['shared/src/config/x.ts', 'fs', 'pure code'],
  ['shared/src/x.ts', 'node:net', 'pure code'],
  ['shared/src/x.ts', '@knock/shared/node', 'pure code'],
  ['shared/src/x.ts', '@knock/server', 'never import the server'],
  ['shared/src/node/x.ts', '../../../server/src/daemon/daemon.js', 'never import the server'],
  ['shared/src/node/x.ts', '@knock/client-cli', 'never import a client'],
  // clients never import the server
  ['client-cli/src/x.ts', '@knock/server', 'never import the server'],
  [
    'client-cli/src/commands/x.ts',
    '../../../server/src/firewall/index.js',
    'never import the server',
  ],
  ['client-desktop/src/main/x.ts', '@knock/server', 'never import the server'],
  // the server never imports a client
  ['server/src/daemon/x.ts', '@knock/client-cli', 'never import a client'],
  ['server/src/cli/x.ts', '../../../client-cli/src/program.js', 'never import a client'],
  // only capture/cap-module.ts imports cap
  ['server/src/capture/decode-x.ts', 'cap', 'only server/src/capture/cap-module.ts'],
  ['server/src/capture/cap-source.ts', 'cap', 'only server/src/capture/cap-module.ts'],
  ['server/src/capture/capture-errors.ts', 'cap', 'only server/src/capture/cap-module.ts'],
  ['server/src/daemon/x.ts', 'cap', 'only server/src/capture/cap-module.ts'],
  ['client-cli/src/x.ts', 'cap', 'only server/src/capture/cap-module.ts'],
  // only main/main.ts (and the preload) load electron
  [
    'client-desktop/src/main/tray-controller.ts',
    'electron',
    'only client-desktop/src/main/main.ts',
  ],
  ['client-cli/src/x.ts', 'electron', 'only client-desktop/src/main/main.ts'],
  ['server/src/x.ts', 'electron', 'only client-desktop/src/main/main.ts'],
  // the renderer runs in the page: no Node, no electron
  ['client-desktop/src/renderer/x.ts', 'node:fs', 'runs in the page'],
  ['client-desktop/src/renderer/x.ts', 'node:path', 'runs in the page'],
  ['client-desktop/src/renderer/x.ts', 'fs', 'runs in the page'],
  ['client-desktop/src/renderer/x.ts', '@knock/shared/node', 'runs in the page'],
  ['client-desktop/src/renderer/x.ts', 'electron', 'only client-desktop/src/main/main.ts'],
];

// [file, import it may use]
const allowed: [string, string, boolean?][] = [
  ['server/src/capture/cap-module.ts', 'cap'],
  ['client-desktop/src/main/main.ts', 'electron'],
  ['client-desktop/src/preload/preload.cts', 'electron'],
  ['client-desktop/src/main/tray-controller.ts', 'electron', true],
  ['server/src/detect/x.ts', '@knock/shared'],
  ['server/src/detect/x.ts', './int-table.js'],
  ['shared/src/node/x.ts', 'node:fs'],
  ['server/src/daemon/x.ts', '../capture/decode.js'],
  ['server/src/cli/x.ts', '../firewall/create.js'],
  ['server/src/firewall/x.ts', './types.js'],
  ['server/src/firewall/x.ts', 'node:child_process'],
  ['client-cli/src/x.ts', '@knock/shared/node'],
  ['client-desktop/src/renderer/x.ts', '@knock/shared'],
];

describe('dependency rules (eslint no-restricted-imports)', () => {
  it.each(never)('%s may not import %s', async (file, specifier, words) => {
    const errors = await importErrors(file, specifier);
    expect(errors.join('\n')).toContain(words);
  });

  it.each(allowed)('%s may import %s', async (file, specifier, typeOnly) => {
    expect(await importErrors(file, specifier, typeOnly)).toEqual([]);
  });

  it('refuses cap to a type-only import outside cap-module.ts too', async () => {
    const errors = await importErrors('server/src/capture/cap-source.ts', 'cap', true);
    expect(errors.join('\n')).toContain('only server/src/capture/cap-module.ts');
  });
});

describe('type-aware promise rules', () => {
  it('flag a floating promise and promises passed where a void callback is expected', async () => {
    const typed = new ESLint({ cwd: root, ignore: false });
    const [result] = await typed.lintFiles([resolve(root, 'test/lint/fixtures/promises.ts')]);
    const rules = (result?.messages ?? []).map((m) => `${m.line}:${m.ruleId ?? m.message}`);
    expect(rules).toEqual([
      '8:@typescript-eslint/no-floating-promises',
      '12:@typescript-eslint/no-misused-promises',
      '13:@typescript-eslint/no-misused-promises',
    ]);
  });
});
