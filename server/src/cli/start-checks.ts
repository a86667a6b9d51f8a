/**
 * What `knock-server` checks when it starts, run by `check` without root: the trusted
 * file (readable, every line valid, names resolved), the Interface names, the LogFile and
 * PidFile directories, the Cluster_Password_File. A check that cannot run here is named,
 * so "OK" means "will start" and never "was not looked at".
 */
import { readdir, readFile as fsReadFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { KnockError, type Issue, type KnockdConfig } from '@knock/shared';
import { checkClusterFiles } from '../cluster/connect.js';
import { needsFirewall } from '../daemon/daemon-actions.js';
import { detectFirewall, onPath } from '../firewall/create.js';
import { loadTrusted, type Lookup } from '../firewall/load-trusted.js';

export interface StartCheckDeps {
  readFile?: (path: string) => Promise<string>;
  lookup?: Lookup;
  /** The interfaces of this host, or undefined when it cannot tell (default /sys/class/net). */
  interfaceNames?: () => Promise<ReadonlySet<string> | undefined>;
  /** Whether an interface is up (IFF_UP), undefined when unknown (default /sys/class/net/IF/flags). */
  interfaceUp?: (name: string) => Promise<boolean | undefined>;
  /** 'directory', 'other', or 'missing'. */
  pathKind?: (path: string) => Promise<'directory' | 'other' | 'missing'>;
  /** Whether a program (nft, iptables, ip6tables) is installed (default: on PATH). */
  has?: (program: string) => Promise<boolean>;
  /** Cluster_Password_File's password, refused when unsafe (default: cluster/connect.ts). */
  readPasswordFile?: (path: string) => Promise<string>;
}

export interface StartChecks {
  issues: Issue[];
  /** Checks the start runs that need root or this host's kernel, said in one line each. */
  notChecked: string[];
}

const systemInterfaces = async (): Promise<ReadonlySet<string> | undefined> => {
  try {
    return new Set(await readdir('/sys/class/net'));
  } catch {
    return undefined;
  }
};

const systemInterfaceUp = async (name: string): Promise<boolean | undefined> => {
  try {
    // IFF_UP is bit 0 of the interface flags.
    return (
      (Number.parseInt(await fsReadFile(`/sys/class/net/${name}/flags`, 'utf8'), 16) & 1) === 1
    );
  } catch {
    return undefined;
  }
};

const systemPathKind = async (path: string): Promise<'directory' | 'other' | 'missing'> => {
  try {
    return (await stat(path)).isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
};

/** The line of the last `NAME = …` in the config (0 when not found), for issues about its value. */
export function directiveLine(text: string, name: string): number {
  const pattern = new RegExp(`^[ \\t\\v\\f\\r]*${name}[ \\t\\v\\f\\r]*=`, 'i');
  let found = 0;
  text.split('\n').forEach((line, index) => {
    if (pattern.test(line)) found = index + 1;
  });
  return found;
}

export async function runStartChecks(
  config: KnockdConfig,
  text: string,
  configFile: string,
  deps: StartCheckDeps = {},
): Promise<StartChecks> {
  const issues: Issue[] = [];
  const notChecked: string[] = [
    'opening the capture (needs CAP_NET_RAW: run knock-server -v as root to see it start)',
  ];
  const error = (directive: string, message: string, hint: string) =>
    issues.push({
      severity: 'error',
      code: 'check.start',
      message,
      hint,
      file: configFile,
      line: directiveLine(text, directive),
      column: 0,
    });
  const pathKind = deps.pathKind ?? systemPathKind;

  const trustedFile = config.options.trustedFile;
  if (trustedFile !== undefined) {
    try {
      const loaded = await loadTrusted(trustedFile, {
        readFile: deps.readFile ?? ((p) => fsReadFile(p, 'utf8')),
        ...(deps.lookup ? { lookup: deps.lookup } : {}),
      });
      issues.push(...loaded.issues);
    } catch (caught) {
      if (!(caught instanceof KnockError)) throw caught;
      error(
        'Trusted_File',
        `Trusted_File: ${caught.message}: knock-server would not start`,
        caught.hint ?? 'fix Trusted_File',
      );
    }
  }
  if (needsFirewall(config)) issues.push(...(await firewallTools(config, text, configFile, deps)));
  if (needsFirewall(config))
    notChecked.push(
      `setting up the firewall (needs root: knock-server fw setup --dry-run -c ${configFile} prints the rules)`,
    );

  const { cluster } = config.options;
  if (cluster !== undefined) {
    issues.push(
      ...(await checkClusterFiles(
        config.options,
        configFile,
        deps.readPasswordFile,
        directiveLine(text, 'Cluster_Password_File'),
      )),
    );
    notChecked.push(
      `reaching the cluster store ${cluster} (knock-server cluster status -c ${configFile} asks it)`,
    );
  }

  const wanted = (config.options.interface ?? '').split(',').filter((name) => name !== '');
  if (wanted.length > 0) {
    const present = await (deps.interfaceNames ?? systemInterfaces)();
    if (present === undefined) notChecked.push(`Interface ${wanted.join(',')} (no /sys/class/net)`);
    else
      for (const name of wanted) {
        if (!present.has(name))
          error(
            'Interface',
            `Interface ${name}: no such interface on this host: knock-server would not start`,
            `\`ip link\` lists the interfaces (here: ${[...present].sort().join(', ')}); -i IF overrides Interface`,
          );
        else if ((await (deps.interfaceUp ?? systemInterfaceUp)(name)) === false)
          error(
            'Interface',
            `Interface ${name} is down: knock-server would not start`,
            `bring it up (ip link set ${name} up), or listen elsewhere with -i IF`,
          );
      }
  }

  for (const [directive, path, consequence] of [
    ['LogFile', config.options.logFile, 'nothing would be logged to it'],
    ['PidFile', config.options.pidFile, 'knock-server would not start'],
  ] as const) {
    if (path === undefined) continue;
    const full = resolve(path);
    const kind = await pathKind(full);
    const parent = dirname(full);
    if (kind === 'directory')
      error(directive, `${directive} ${path} is a directory: ${consequence}`, 'name a file');
    else if (kind === 'missing' && (await pathKind(parent)) !== 'directory')
      error(
        directive,
        `${directive} ${path}: the directory ${parent} does not exist: ${consequence}`,
        `create it (mkdir -p ${parent}) or fix ${directive}`,
      );
  }
  return { issues, notChecked };
}

/**
 * The backend the start would set up, and whether its tools are here: a named backend
 * without its tool stops the start; no backend at all leaves Open_Ports and Ban doors
 * running their commands only (the daemon logs it at every start).
 */
async function firewallTools(
  config: KnockdConfig,
  text: string,
  configFile: string,
  deps: StartCheckDeps,
): Promise<Issue[]> {
  const has = deps.has ?? ((program: string) => onPath(program));
  const named = config.options.firewall;
  const kind = named ?? (await detectFirewall({ has }));
  const line = named === undefined ? 0 : directiveLine(text, 'Firewall');
  const issue = (severity: Issue['severity'], message: string, hint: string): Issue => ({
    severity,
    code: 'check.firewall',
    message,
    hint,
    file: configFile,
    line,
    column: 0,
  });
  const missing =
    kind === 'nftables'
      ? (await has('nft'))
        ? []
        : ['nft']
      : kind === 'iptables'
        ? [
            ...((await has('iptables')) ? [] : ['iptables']),
            ...((await has('ip6tables')) ? [] : ['ip6tables']),
          ]
        : [];
  if (missing.length > 0)
    return [
      issue(
        'error',
        `Firewall = ${kind}, but ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not installed: knock-server would not start`,
        kind === 'nftables' ? 'apt-get install nftables' : 'apt-get install iptables',
      ),
    ];
  const firewallDoors = config.doors.filter(
    (d) => d.openPorts !== undefined || d.ban !== undefined,
  );
  if (kind === 'none' && firewallDoors.length > 0)
    return [
      issue(
        'warning',
        `${named === 'none' ? 'Firewall = none' : 'neither nft nor iptables is installed'}: door${firewallDoors.length === 1 ? '' : 's'} ${firewallDoors.map((d) => `'${d.name}'`).join(', ')} would open no port and ban no one (Open_Ports, Ban), only run commands`,
        named === 'none'
          ? 'remove Firewall = none, or the Open_Ports and Ban lines'
          : 'apt-get install nftables',
      ),
    ];
  return [];
}
