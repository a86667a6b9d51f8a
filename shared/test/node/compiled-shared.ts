import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Compiles @knock/shared's sources into a fresh temporary directory, for tests that run
 * it in separate `node` processes (Node 20 cannot import .ts). Its node_modules link
 * resolves the dependencies. Returns the directory and a cleanup function.
 */
export async function compileShared(): Promise<{ outDir: string; cleanup: () => void }> {
  const outDir = mkdtempSync(join(tmpdir(), 'knock-shared-build-'));
  symlinkSync(join(repo, 'node_modules'), join(outDir, 'node_modules'));
  const tsconfig = join(outDir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(repo, 'shared/tsconfig.json'),
      compilerOptions: {
        rootDir: join(repo, 'shared/src'),
        outDir,
        composite: false,
        incremental: true,
        tsBuildInfoFile: join(outDir, '.tsbuildinfo'),
        declaration: false,
        declarationMap: false,
        sourceMap: false,
      },
      include: [join(repo, 'shared/src')],
      references: [],
    }),
  );
  // Emits even if some other file has a type error; the build's own check is `tsc -b`.
  await new Promise<void>((resolve) => {
    execFile(
      process.execPath,
      [join(repo, 'node_modules/typescript/bin/tsc'), '-p', tsconfig],
      { timeout: 120_000 },
      () => resolve(),
    );
  });
  if (!existsSync(join(outDir, 'node/index.js'))) {
    throw new Error(`compiling shared into ${outDir} produced no node/index.js`);
  }
  return { outDir, cleanup: () => rmSync(outDir, { recursive: true, force: true }) };
}

export const childScript = fileURLToPath(new URL('../fixtures/ots-child.mjs', import.meta.url));
