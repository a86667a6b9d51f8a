#!/usr/bin/env node
// scripts/gen-man.mjs: writes the man pages in packaging/man/ from the same sources as
// `--help` and the README, so they never drift:
//   knock.1, knock-server.8  the built programs' command trees (`completion json`, which
//                            walks the commander program: every subcommand and option)
//   knockd.conf.5            README.md's directive tables, checked against the parser's
//                            directive lists (a directive missing from either fails)
// `--check` writes nothing and exits 1 when a committed page differs (test/packaging).
// Needs the build (npm run build).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkDirectiveTable,
  markdownTable,
  renderConfigManPage,
  renderManPage,
} from '@knock/shared/cli-docs';
import { DOOR_DIRECTIVES, EXTENSION_DIRECTIVES, OPTIONS_DIRECTIVES } from '@knock/shared';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'packaging', 'man');
const check = process.argv.includes('--check');

const version = (pkg) => JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8')).version;

/** The command tree of a built binary, as its own `completion json` prints it. */
const tree = (bin) =>
  JSON.parse(
    execFileSync(process.execPath, [join(root, bin), 'completion', 'json'], {
      encoding: 'utf8',
      // Nothing of the caller's environment may leak into a committed page.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    }),
  );

const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The text between a heading line and the next heading (the section's introduction). */
function intro(heading) {
  const lines = readme.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`README.md has no heading "${heading}"`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /^#{1,6} /.test(l) || l.startsWith('```'));
  return rest.slice(0, end < 0 ? undefined : end).join('\n');
}

/** The first ```ini block after `heading`. */
function example(heading) {
  const from = readme.indexOf(heading);
  const block = /```ini\n([\s\S]*?)```/.exec(readme.slice(from));
  return block?.[1];
}

const CONFIG_HEADING = '## Config reference (`/etc/knockd.conf`)';
const optionsRows = markdownTable(readme, '### `[options]`');
const doorRows = markdownTable(readme, '### Doors');
const problems = [
  ...checkDirectiveTable(optionsRows, OPTIONS_DIRECTIVES, '[options]'),
  ...checkDirectiveTable(doorRows, DOOR_DIRECTIVES, 'doors'),
];
if (problems.length > 0) {
  process.stderr.write(
    `gen-man: README.md and the config parser disagree:\n  ${problems.join('\n  ')}\n`,
  );
  process.exitCode = 1;
} else {
  const serverVersion = version('server');
  const pages = {
    'knock.1': renderManPage({
      spec: tree('client-cli/bin/knock.js'),
      section: '1',
      source: `knock ${version('client-cli')}`,
      manual: 'User Commands',
      extra: [
        {
          title: 'Files',
          text:
            'The profile file: $KNOCK_CONFIG if set; else on Linux and other Unix systems ' +
            '$XDG_CONFIG_HOME/knock/config.toml, or ~/.config/knock/config.toml; on macOS ' +
            '~/Library/Application Support/knock/config.toml (or $XDG_CONFIG_HOME/knock/config.toml ' +
            'when XDG_CONFIG_HOME is set); on Windows %APPDATA%\\knock\\Config\\config.toml. ' +
            '`knock list` prints the file in use.',
        },
        {
          title: 'See also',
          text: 'ssh(1), ssh_config(5), knock-server(8), knockd.conf(5)',
        },
      ],
    }),
    'knock-server.8': renderManPage({
      spec: tree('server/bin/knock-server.js'),
      section: '8',
      source: `knock-server ${serverVersion}`,
      manual: 'System Administration',
      extra: [
        {
          title: 'Files',
          text:
            '/etc/knockd.conf: the config (knockd.conf(5)).\n\n' +
            '/lib/systemd/system/knock-server.service: the systemd unit of the Debian package ' +
            '(`systemctl enable --now knock-server` starts it; nothing is enabled on install).\n\n' +
            '/var/lib/knock-server: state of the Debian package.',
        },
        {
          title: 'See also',
          text: 'knockd.conf(5), knock(1), nft(8), iptables(8), systemd.service(5)',
        },
      ],
    }),
    'knockd.conf.5': renderConfigManPage({
      source: `knock-server ${serverVersion}`,
      optionsRows,
      doorRows,
      extensions: EXTENSION_DIRECTIVES,
      intro: intro(CONFIG_HEADING),
      example: example(CONFIG_HEADING),
      extra: [{ title: 'See also', text: 'knock-server(8), knock(1), knockd(1)' }],
    }),
  };
  const stale = [];
  mkdirSync(out, { recursive: true });
  for (const [name, text] of Object.entries(pages)) {
    const file = join(out, name);
    let current;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    if (check) stale.push(`packaging/man/${name}`);
    else writeFileSync(file, text);
  }
  if (stale.length > 0) {
    process.stderr.write(
      `gen-man: out of date: ${stale.join(', ')}\n  run: npm run build && node scripts/gen-man.mjs\n`,
    );
    process.exitCode = 1;
  }
}
