#!/usr/bin/env node
// scripts/package-client.mjs (npm run package:client): `npm pack` of the knock client
// for `npm install -g` on any OS with Node 20: build/npm/knock-client-cli-VERSION.tgz.
//
// One package, @knock/client-cli, with @knock/shared bundled inside it
// (bundleDependencies): @knock/shared is the private vocabulary of our own packages, kept
// in lockstep with them, so it is not published on its own (see README "Install the
// client"). The tarball holds JavaScript only (no TypeScript, maps or declarations) and
// the knock(1) man page; npm installs commander, ink, react and shared's own
// dependencies from the registry. Nothing in it is native code: no compiler, no libpcap.
//
// Options: --no-build (use the build as it is), --out DIR (default build/npm).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = resolve(outIndex >= 0 ? (args[outIndex + 1] ?? '') : join(root, 'build', 'npm'));
const say = (text) => process.stderr.write(`package-client: ${text}\n`);

if (!args.includes('--no-build')) {
  say('building (tsc -b)');
  execFileSync('npx', ['tsc', '-b', 'client-cli'], { cwd: root, stdio: 'inherit' });
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const client = readJson(join(root, 'client-cli', 'package.json'));
const shared = readJson(join(root, 'shared', 'package.json'));
const runtimeOnly = (src) => !/\.(d\.ts|d\.ts\.map|js\.map|tsbuildinfo)$/.test(src);

mkdirSync(out, { recursive: true });
const stage = mkdtempSync(join(out, '.stage-'));
try {
  for (const entry of client.files)
    cpSync(join(root, 'client-cli', entry), join(stage, entry), {
      recursive: true,
      filter: runtimeOnly,
    });
  cpSync(join(root, 'packaging', 'man', 'knock.1'), join(stage, 'man', 'knock.1'));

  // @knock/shared, inside the package: what its own "files" ship, JavaScript only.
  const sharedDir = join(stage, 'node_modules', '@knock', 'shared');
  for (const entry of shared.files)
    cpSync(join(root, 'shared', entry), join(sharedDir, entry), {
      recursive: true,
      filter: runtimeOnly,
    });
  // Its dependencies are the client's (below): npm treats the dependencies a bundled
  // package declares as bundled too, and would leave them as empty folders.
  const { private: _p1, devDependencies: _d1, dependencies: _s1, ...sharedManifest } = shared;
  // The source condition and the declarations point at files that are not shipped.
  for (const target of Object.values(sharedManifest.exports)) {
    delete target['@knock/source'];
    delete target.types;
  }
  writeFileSync(join(sharedDir, 'package.json'), JSON.stringify(sharedManifest, null, 2) + '\n');

  const { private: _p2, devDependencies: _d2, ...manifest } = client;
  for (const target of Object.values(manifest.exports ?? {})) {
    delete target['@knock/source'];
    delete target.types;
  }
  const engines = readJson(join(root, 'package.json')).engines;
  const packed = {
    ...manifest,
    license: manifest.license ?? readJson(join(root, 'package.json')).license,
    engines,
    files: [...client.files, 'man'],
    man: ['./man/knock.1'],
    dependencies: {
      // shared's own dependencies, installed beside the bundled copy (Node finds them
      // from node_modules/@knock/shared by walking up).
      ...shared.dependencies,
      ...client.dependencies,
    },
    bundleDependencies: ['@knock/shared'],
  };
  writeFileSync(join(stage, 'package.json'), JSON.stringify(packed, null, 2) + '\n');

  const json = execFileSync(
    'npm',
    ['pack', '--json', '--pack-destination', out, '--loglevel=error', '--ignore-scripts'],
    { cwd: stage, encoding: 'utf8' },
  );
  const [info] = JSON.parse(json);
  say(
    `wrote ${join(out, info.filename)} (${(info.size / 1024).toFixed(0)} KiB packed, ` +
      `${(info.unpackedSize / 1024).toFixed(0)} KiB, ${info.entryCount} files)`,
  );
  process.stdout.write(join(out, info.filename) + '\n');
} finally {
  rmSync(stage, { recursive: true, force: true });
}
