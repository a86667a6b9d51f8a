// Reads a trusted file and resolves its host names (the Node half of trusted.ts).
import { lookup as dnsLookup } from 'node:dns/promises';
import { readFile as fsReadFile } from 'node:fs/promises';
import { ExitCode, KnockError, errorText, type Issue } from '@knock/shared';
import { parseHost } from './address.js';
import { parseTrustedFile, type TrustedEntry } from './trusted.js';

export type Lookup = (name: string) => Promise<string[]>;

export interface LoadedTrusted {
  /** Every address and CIDR to trust (names resolved), deduplicated, in file order. */
  addresses: string[];
  entries: TrustedEntry[];
  /** Parse problems, and a warning for each name that did not resolve. */
  issues: Issue[];
}

export interface LoadTrustedDeps {
  readFile?: (path: string) => Promise<string>;
  lookup?: Lookup;
  /** Per name; a resolver that hangs must not hold up the daemon's start. Default 5 s. */
  timeoutMs?: number;
}

const systemLookup: Lookup = async (name) =>
  (await dnsLookup(name, { all: true, verbatim: true })).map((a) => a.address);

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves the names of already parsed entries; all lookups run in parallel. */
export async function resolveTrusted(
  entries: readonly TrustedEntry[],
  file: string | undefined,
  deps: Pick<LoadTrustedDeps, 'lookup' | 'timeoutMs'> = {},
): Promise<{ addresses: string[]; issues: Issue[] }> {
  const lookup = deps.lookup ?? systemLookup;
  const timeoutMs = deps.timeoutMs ?? 5000;
  const issues: Issue[] = [];
  const resolved = await Promise.all(
    entries.map(async (entry): Promise<string[]> => {
      if (entry.kind === 'address') return [entry.address];
      if (entry.kind === 'cidr') return [entry.cidr];
      try {
        const found = await withTimeout(lookup(entry.name), timeoutMs, `looking up ${entry.name}`);
        const hosts = found.map(parseHost).filter((h) => h !== undefined);
        if (hosts.length === 0) throw new Error('no address');
        return hosts.map((h) => h.address);
      } catch (error) {
        const reason = errorText(error);
        const issue: Issue = {
          severity: 'warning',
          code: 'trusted.unresolved',
          message: `host name '${entry.name}' does not resolve (${reason}); it is not trusted`,
          hint: 'fix the name or write its address; the other entries are trusted',
          line: entry.line,
          column: 0,
        };
        if (file !== undefined) issue.file = file;
        issues.push(issue);
        return [];
      }
    }),
  );
  return { addresses: [...new Set(resolved.flat())], issues };
}

/**
 * Reads and parses `path`, then resolves its names. Throws KnockError (ExitCode.config)
 * only when the file cannot be read; everything else is an issue.
 */
export async function loadTrusted(
  path: string,
  deps: LoadTrustedDeps = {},
): Promise<LoadedTrusted> {
  let text: string;
  try {
    text = await (deps.readFile ?? ((p) => fsReadFile(p, 'utf8')))(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new KnockError(
      'firewall.trustedUnreadable',
      `cannot read trusted file ${path} (${reason})`,
      {
        exitCode: ExitCode.config,
        hint: 'fix Trusted_File in [options], or create the file (one address, CIDR or host name per line)',
        cause: error,
      },
    );
  }
  const parsed = parseTrustedFile(text, path);
  const valid = parsed.entries;
  const { addresses, issues } = await resolveTrusted(valid, path, deps);
  return { addresses, entries: parsed.entries, issues: [...parsed.issues, ...issues] };
}
