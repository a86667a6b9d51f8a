/**
 * The tray app's electron-builder config (client-desktop/electron-builder.json), checked
 * without running electron-builder (it downloads Electron's binaries, which this
 * environment cannot): it is valid against the builder's own JSON schema
 * (app-builder-lib's scheme.json of the version `npm run desktop:package` runs,
 * vendored in packaging/desktop/), it names the four targets, and every file it
 * packs, and every file the app loads at run time, exists after the build.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Ajv from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { root } from './tools.js';

const desktop = join(root, 'client-desktop');
const config = JSON.parse(readFileSync(join(desktop, 'electron-builder.json'), 'utf8')) as {
  files: string[];
  icon: string;
  extraMetadata: { main: string };
  directories: { buildResources: string };
  linux: { target: string[]; icon: string };
  mac: { target: string[]; icon: string };
  win: { target: string[]; icon: string };
};
const script = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts['desktop:package'];
const schemaFile = readdirSync(join(root, 'packaging', 'desktop')).find((f) =>
  /^electron-builder-.*\.schema\.json$/.test(f),
);

/** Every file under `dir`, relative to it, with / separators. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules') return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [relative(desktop, path)];
  });
}

/** electron-builder's file patterns: ** any folders, * any name part. */
const globRegExp = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*\//g, '\u0001')
      .replace(/\*/g, '[^/]*')
      .split('\u0001')
      .join('(?:.*/)?')}$`,
  );

beforeAll(async () => {
  await promisify(execFile)('npx', ['tsc', '-b', 'client-desktop'], { cwd: root }).catch(
    () => undefined,
  );
}, 120_000);

describe('electron-builder config', () => {
  it('npm run desktop:package runs the electron-builder whose schema is vendored', () => {
    const version = /electron-builder@(\d+\.\d+\.\d+)/.exec(script ?? '')?.[1];
    expect(version).toBeDefined();
    expect(schemaFile).toBe(`electron-builder-${version}.schema.json`);
    expect(script).toContain('--config electron-builder.json');
  });

  it("is valid against the builder's JSON schema (and the schema does reject an unknown key)", () => {
    const schema: unknown = JSON.parse(
      readFileSync(join(root, 'packaging', 'desktop', schemaFile ?? ''), 'utf8'),
    );
    const validate = new Ajv({ allErrors: true }).compile(schema as object);
    expect(validate(config) ? [] : validate.errors).toEqual([]);
    expect(validate({ ...config, singleInstance: true })).toBe(false);
  });

  it('builds AppImage and deb on Linux, dmg on macOS, NSIS on Windows, each with the icon', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.win.target).toEqual(['nsis']);
    for (const icon of [config.icon, config.linux.icon, config.mac.icon, config.win.icon]) {
      const png = readFileSync(join(desktop, icon));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      // electron-builder needs 512×512 at least to make .icns and .ico from a PNG.
      expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(512);
      expect(png.readUInt32BE(20)).toBeGreaterThanOrEqual(512);
    }
  });

  it('every pattern in "files" matches a file, and what the app loads is packed', () => {
    const all = filesUnder(desktop);
    const packed = (file: string) => config.files.some((p) => globRegExp(p).test(file));
    for (const pattern of config.files)
      expect({ pattern, matches: all.some((f) => globRegExp(pattern).test(f)) }).toEqual({
        pattern,
        matches: true,
      });
    // The entry, the preload script, the window's page and what it loads, the tray icon.
    const page = readFileSync(join(desktop, 'src', 'renderer', 'index.html'), 'utf8');
    const loaded = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) =>
      relative(desktop, join(desktop, 'src', 'renderer', m[1] ?? '')),
    );
    const needed = [
      config.extraMetadata.main,
      'dist/main/app.js',
      'dist/preload/preload.cjs',
      'src/renderer/index.html',
      'assets/tray.png',
      ...loaded,
    ];
    for (const file of needed) {
      expect(statSync(join(desktop, file)).isFile()).toBe(true);
      expect({ file, packed: packed(file) }).toEqual({ file, packed: true });
    }
    // No TypeScript, maps or tests go into the app.
    expect(all.filter(packed).filter((f) => /\.(ts|map)$|(^|\/)test\//.test(f))).toEqual([]);
  });
});
