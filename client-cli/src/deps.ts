import type { Command } from 'commander';
import type { Readable, Writable } from 'node:stream';
import type { GenerateOtsOptions, Issue, Knock, Profile } from '@knock/shared';
import type {
  AddressFamily,
  KnockProgress,
  SendOptions,
  VerifyOptions,
  VerifyResult,
} from '@knock/shared/node';
import type { ServiceTable } from './services.js';

export type { Profile };

/** The profile file as @knock/shared/node's loadProfiles reads it. */
export interface ProfileFile {
  path: string;
  profiles: Profile[];
  exists: boolean;
  /** Problems that did not stop loading (printed as warnings). */
  warnings?: Issue[];
}

/** Where text goes; tests pass a collector. */
export interface Out {
  write(text: string): unknown;
}

export interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What `knock ui` (client-cli/src/ui/run.ts) exports. */
export interface TuiModule {
  runTui(deps: {
    env: NodeJS.ProcessEnv;
    path?: string;
    stdin?: NodeJS.ReadStream;
    stdout?: NodeJS.WriteStream;
    stderr?: Out;
  }): Promise<number>;
}

/**
 * Every effect the command line has, injected: bin/knock.ts binds the real ones
 * (node-deps.ts), tests bind fakes. The heavy modules load lazily behind these.
 */
export interface CliDeps {
  version: string;
  env: NodeJS.ProcessEnv;
  stdout: Out;
  stderr: Out;
  /** stdin and stdout are both a terminal: `knock` alone opens the TUI. */
  isInteractive: boolean;
  setExitCode(code: number): void;

  /** /etc/services, parsed; undefined when the file cannot be read. */
  services(): Promise<{ file: string; table: ServiceTable | undefined }>;
  resolveTargets(host: string, family: AddressFamily): Promise<string[]>;
  sendKnocks(options: SendOptions): Promise<void>;
  verifyOpen(options: VerifyOptions): Promise<VerifyResult>;

  loadProfiles(options: { path?: string; env?: NodeJS.ProcessEnv }): Promise<ProfileFile>;
  findProfile(profiles: readonly Profile[], host: string): Profile | undefined;
  /** Knocks the next unused sequence of a one-time file through `use`; marks it used once `use` resolved. */
  takeOneTimeSequence(
    path: string,
    use: (knocks: Knock[]) => Promise<void>,
  ): Promise<{ used: Knock[]; remaining: number }>;
  /** `knock ots generate`: writes a new one-time-sequence file. */
  generateOtsFile(
    file: string,
    options: Omit<GenerateOtsOptions, 'randomInt'> & { force?: boolean },
  ): Promise<void>;

  /** Runs `ssh ARGS` and captures its output (`ssh -G`). */
  capture(command: string, args: readonly string[]): Promise<ChildResult>;
  /** Runs a program with the terminal (stdio inherited), forwarding signals; resolves to its exit status. */
  runInteractive(command: string, args: readonly string[]): Promise<number>;
  /** The ProxyCommand's two ends (stdin, stdout), opened so that ending stdout closes it (half-close). */
  relayStreams(): { input: Readable; output: Writable };

  loadTui(): Promise<TuiModule>;
  /** The clock rotating profiles use (tests); default: the system's, moved by $KNOCK_CLOCK_OFFSET. */
  now?: () => number;
}

export type { KnockProgress };

/** Makes a subcommand that inherits the program's output and exit handling. */
export type SubcommandFactory = (name: string) => Command;
