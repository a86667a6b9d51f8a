import { PassThrough } from 'node:stream';
import { CommanderError } from 'commander';
import { describeError, type Issue, type Knock } from '@knock/shared';
import {
  loadedFromParse,
  type ProfileChange,
  type SendOptions,
  type VerifyOptions,
  type VerifyResult,
} from '@knock/shared/node';
import { parseProfiles } from '@knock/shared/profiles';
import { createProgram, type CliDeps, type Profile } from '@knock/client-cli';
import { parseServices } from '../../src/services.js';

export interface Fake {
  deps: CliDeps;
  out: string[];
  err: string[];
  exitCode: number | undefined;
  sends: SendOptions[];
  resolves: { host: string; family: string }[];
  verifies: VerifyOptions[];
  otsTaken: string[];
  generated: { file: string; options: unknown }[];
  captured: { command: string; args: readonly string[] }[];
  interactive: { command: string; args: readonly string[] }[];
  loads: { path?: string }[];
  /** knock import: the profile changes asked of the editor, and the secret files written. */
  profileChanges: { path: string; change: ProfileChange }[];
  secretFiles: { path: string; text: string }[];
}

export interface FakeSetup {
  addresses?: Record<string, string[]>;
  profiles?: Profile[];
  profilePath?: string;
  profileFileExists?: boolean;
  verify?: VerifyResult;
  ots?: { next: Knock[]; remaining: number } | Error;
  sshG?: { code: number; stdout: string; stderr?: string };
  sshStatus?: number;
  interactive?: boolean;
  tui?: CliDeps['loadTui'];
  resolveError?: Error;
  warnings?: Issue[];
  /** The profile file's text: loadProfiles and checkProfiles then parse it for real. */
  profileText?: string;
}

export const SERVICES = `
# /etc/services excerpt
ssh		22/tcp				# SSH Remote Login Protocol
domain		53/tcp
domain		53/udp
openvpn		1194/udp
http		80/tcp		www		# WorldWideWeb HTTP
`;

export function fake(setup: FakeSetup = {}): Fake {
  const f: Fake = {
    out: [],
    err: [],
    exitCode: undefined,
    sends: [],
    resolves: [],
    verifies: [],
    otsTaken: [],
    generated: [],
    captured: [],
    interactive: [],
    loads: [],
    profileChanges: [],
    secretFiles: [],
    deps: undefined as unknown as CliDeps,
  };
  const path = setup.profilePath ?? '/home/u/.config/knock/config.toml';
  f.deps = {
    version: '9.9.9',
    env: { HOME: '/home/u' },
    stdout: { write: (t) => f.out.push(t) },
    stderr: { write: (t) => f.err.push(t) },
    isInteractive: setup.interactive ?? false,
    setExitCode: (code) => {
      f.exitCode = code;
    },
    services: async () => ({ file: '/etc/services', table: parseServices(SERVICES) }),
    resolveTargets: async (host, family) => {
      f.resolves.push({ host, family });
      if (setup.resolveError) throw setup.resolveError;
      return setup.addresses?.[host] ?? ['192.0.2.2'];
    },
    sendKnocks: async (options) => {
      f.sends.push(options);
      for (const address of options.addresses)
        for (const [index, knock] of options.knocks.entries())
          options.onEvent?.({ type: 'knock', address, knock, index, count: options.knocks.length });
    },
    verifyOpen: async (options) => {
      f.verifies.push(options);
      const result = setup.verify ?? {
        state: 'open',
        address: options.addresses[0] ?? '',
        elapsedMs: 300,
      };
      if (result.state === 'open')
        options.onEvent?.({
          type: 'open',
          address: result.address,
          port: options.port,
          elapsedMs: 300,
        });
      else
        options.onEvent?.({
          type: 'closed',
          addresses: [...options.addresses],
          port: options.port,
          state: result.state,
          timeoutMs: options.timeoutMs,
        });
      return result;
    },
    loadProfiles: async (options) => {
      f.loads.push(options.path === undefined ? {} : { path: options.path });
      if (setup.profileText !== undefined) {
        const file = options.path ?? path;
        return loadedFromParse(file, parseProfiles(setup.profileText, file), { HOME: '/home/u' });
      }
      return {
        path: options.path ?? path,
        profiles: setup.profiles ?? [],
        exists: setup.profileFileExists ?? setup.profiles !== undefined,
        ...(setup.warnings ? { warnings: setup.warnings } : {}),
      };
    },
    checkProfiles: async (options) => {
      f.loads.push(options.path === undefined ? {} : { path: options.path });
      const file = options.path ?? path;
      if (setup.profileText === undefined)
        return { path: file, exists: false, issues: [], usable: 0, invalid: 0 };
      const parsed = parseProfiles(setup.profileText, file);
      return {
        path: file,
        exists: true,
        issues: parsed.issues,
        usable: parsed.profiles.length,
        invalid: parsed.invalid.length,
      };
    },
    findProfile: (profiles, host) =>
      profiles.find((p) => p.host.toLowerCase() === host.toLowerCase()),
    takeOneTimeSequence: async (file, use) => {
      f.otsTaken.push(file);
      const ots = setup.ots ?? { next: [{ port: 7001, protocol: 'tcp' }], remaining: 3 };
      if (ots instanceof Error) throw ots;
      await use(ots.next);
      return { used: ots.next, remaining: ots.remaining };
    },
    updateProfile: async (file, change) => {
      f.profileChanges.push({ path: file, change });
    },
    writeSecretFile: async (file, text) => {
      f.secretFiles.push({ path: file, text });
    },
    generateOtsFile: async (file, options) => {
      f.generated.push({ file, options });
    },
    capture: async (command, args) => {
      f.captured.push({ command, args });
      const g = setup.sshG ?? {
        code: 0,
        stdout: 'host h\nhostname h\nport 22\naddressfamily any\n',
      };
      return { code: g.code, stdout: g.stdout, stderr: g.stderr ?? '' };
    },
    runInteractive: async (command, args) => {
      f.interactive.push({ command, args });
      return setup.sshStatus ?? 0;
    },
    relayStreams: () => ({ input: new PassThrough(), output: new PassThrough() }),
    loadTui:
      setup.tui ??
      (async () => {
        throw Object.assign(new Error("Cannot find module '/x/dist/ui/run.js'"), {
          code: 'ERR_MODULE_NOT_FOUND',
        });
      }),
  };
  return f;
}

/** Runs `knock ARGV` as bin/knock.ts does; returns the exit code and the output. */
export async function run(argv: string[], setup: FakeSetup | Fake = {}) {
  const f = 'deps' in setup ? setup : fake(setup);
  let code = 0;
  try {
    await createProgram(f.deps).parseAsync(argv, { from: 'user' });
    code = f.exitCode ?? 0;
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode;
    else {
      const described = describeError(error);
      f.err.push(`knock: ${described.text}\n`);
      code = described.exitCode;
    }
  }
  return { code, stdout: f.out.join(''), stderr: f.err.join(''), f };
}

export const tcp = (port: number): Knock => ({ port, protocol: 'tcp' });
export const udp = (port: number): Knock => ({ port, protocol: 'udp' });

export const profile = (host: string, extra: Partial<Profile> = {}): Profile => ({
  host,
  family: 'any',
  delayMs: 0,
  ...extra,
});
