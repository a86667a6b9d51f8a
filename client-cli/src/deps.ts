import type { Command } from 'commander';
import type { Readable, Writable } from 'node:stream';
import type { GenerateOtsOptions, InvalidProfile, Issue, Knock, Profile } from '@knock/shared';
import type {
  AddressFamily,
  KnockProgress,
  OtsFileOptions,
  ProfileChange,
  ProfileCheck,
  SendOptions,
  VerifyOptions,
  VerifyResult,
} from '@knock/shared/node';
import type { ServiceTable } from './services.js';
import type { SessionClock } from './session.js';

export type { Profile };

/** The profile file as @knock/shared/node's loadProfiles reads it. */
export interface ProfileFile {
  path: string;
  profiles: Profile[];
  exists: boolean;
  /** Problems that did not stop loading (printed as warnings). */
  warnings?: Issue[];
  /** Profiles with errors: knocking one of them fails with its problems (ExitCode.config). */
  invalid?: InvalidProfile[];
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

  /** The services file, parsed (or the built-in table when it cannot be read); `file` names which. */
  services(): Promise<{ file: string; table: ServiceTable | undefined }>;
  resolveTargets(host: string, family: AddressFamily): Promise<string[]>;
  sendKnocks(options: SendOptions): Promise<void>;
  verifyOpen(options: VerifyOptions): Promise<VerifyResult>;

  loadProfiles(options: { path?: string; env?: NodeJS.ProcessEnv }): Promise<ProfileFile>;
  /** `knock check-profiles`: every problem of the profile file. */
  checkProfiles(options: { path?: string; env?: NodeJS.ProcessEnv }): Promise<ProfileCheck>;
  findProfile(profiles: readonly Profile[], host: string): Profile | undefined;
  /** Knocks the next unused sequence of a one-time file through `use`; marks it used once `use` resolved. */
  takeOneTimeSequence(
    path: string,
    use: (knocks: Knock[]) => Promise<void>,
    options?: OtsFileOptions,
  ): Promise<{ used: Knock[]; remaining: number }>;
  /**
   * `knock import`: adds or replaces one profile through the format-preserving profile
   * editor (comments, order and the other profiles stay), under the file's lock; `env`
   * gives the home folder (paths under it are written as ~/…).
   */
  updateProfile(path: string, change: ProfileChange, env: NodeJS.ProcessEnv): Promise<void>;
  /** `knock import`: writes a secret file atomically, mode 0600 (its folder made 0700 if new). */
  writeSecretFile(path: string, text: string): Promise<void>;
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

  /** The clock and timers a kept session runs on (session.ts); the real ones when absent. */
  sessionClock?: SessionClock;
  /**
   * Runs `fn` while holding this user's lock for knocking `host`: two sessions to one host
   * (each knocking again on its own timer) never interleave their knocks, which would make
   * both sequences wrong. Absent: no lock.
   */
  withKnockLock?<T>(host: string, fn: () => Promise<T>): Promise<T>;
  /** Calls `handler` on each of `signals` (instead of dying) until the returned function is called. */
  onSignals?(
    signals: readonly NodeJS.Signals[],
    handler: (signal: NodeJS.Signals) => void,
  ): () => void;
  /** The clock rotating profiles use (tests); default: the system's, moved by $KNOCK_CLOCK_OFFSET. */
  now?: () => number;
}

export type { KnockProgress };

/** Makes a subcommand that inherits the program's output and exit handling. */
export type SubcommandFactory = (name: string) => Command;
