/**
 * The first pass over a profile file's syntax tree: every key under `hosts`, sorted by
 * host in file order, whichever way the TOML wrote it (tables, dotted keys, inline
 * tables), with the structural errors found on the way. Pure.
 */
import type { AST } from 'toml-eslint-parser';
import type { Issue } from '../errors.js';
import { profileTable, tomlString } from '../profile.js';
import { keyName, showKey, showValue, type Value } from './profile-rules.js';

/** A key/value assigned to a profile: `key` is its first segment below the host. */
export interface Entry {
  key: string;
  /** Segments after `key` (a dotted key inside the profile); empty for a plain key. */
  rest: string[];
  keyNode: AST.TOMLKey;
  value: Value;
  /** The key/value node, when the entry is a plain key directly in a `[hosts."NAME"]` table. */
  node?: AST.TOMLKeyValue;
}

export interface HostDraft {
  host: string;
  line: number;
  column: number;
  entries: Entry[];
  /** Sub-tables `[hosts."NAME".x]` (unknown keys that are tables). */
  subTables: { key: string; node: AST.TOMLTable }[];
  /** The host's own `[hosts."NAME"]` table. */
  table?: AST.TOMLTable;
  /** A structural error (not a table, an array of tables…). */
  errors: { line: number; column: number; code: string; message: string; hint: string }[];
}

export interface Collected {
  hosts: Map<string, HostDraft>;
  fileIssues: Omit<Issue, 'file'>[];
}

export const pos = (node: { loc: AST.SourceLocation }) => ({
  line: node.loc.start.line,
  column: node.loc.start.column + 1,
});

/** Walks the syntax tree and sorts every key under `hosts` by host, in file order. */
export function collect(text: string, program: AST.TOMLProgram, lineOffset: number): Collected {
  const hosts = new Map<string, HostDraft>();
  const fileIssues: Omit<Issue, 'file'>[] = [];
  const at = (node: { loc: AST.SourceLocation }) => {
    const p = pos(node);
    return { line: p.line + lineOffset, column: p.column };
  };
  const hostDraft = (host: string, node: { loc: AST.SourceLocation }): HostDraft => {
    let draft = hosts.get(host);
    if (!draft) {
      draft = { host, ...at(node), entries: [], subTables: [], errors: [] };
      hosts.set(host, draft);
    }
    return draft;
  };

  // A key/value whose full path (from the top) is `path`.
  const assign = (path: string[], keyNode: AST.TOMLKey, value: Value, node?: AST.TOMLKeyValue) => {
    const [root, host, key, ...rest] = path;
    if (root !== 'hosts') {
      fileIssues.push({
        severity: 'warning',
        code: 'profile.topLevel',
        ...at(keyNode),
        message: `unknown top-level key ${tomlString(root ?? '')} (ignored)`,
        hint: 'each profile is a table [hosts."HOST"]; nothing else belongs in the file',
      });
      return;
    }
    if (host === undefined) {
      if (value.type !== 'TOMLInlineTable') {
        fileIssues.push({
          severity: 'error',
          code: 'profile.hosts',
          ...at(value),
          message: '"hosts" must be a table of profiles',
          hint: 'write each profile as [hosts."HOST"]',
        });
        return;
      }
      for (const kv of value.body) assign(['hosts', ...kv.key.keys.map(keyName)], kv.key, kv.value);
      return;
    }
    const draft = hostDraft(host, keyNode);
    if (key === undefined) {
      if (value.type !== 'TOMLInlineTable') {
        draft.errors.push({
          ...at(value),
          code: 'profile.notTable',
          message: `${profileTable(host)} must be a table, not ${showValue(text, value)}`,
          hint: `write ${profileTable(host)} on its own line, then key = value lines`,
        });
        return;
      }
      for (const kv of value.body)
        assign(['hosts', host, ...kv.key.keys.map(keyName)], kv.key, kv.value);
      return;
    }
    draft.entries.push({ key, rest, keyNode, value, ...(node ? { node } : {}) });
  };

  for (const item of program.body[0].body) {
    if (item.type === 'TOMLKeyValue') {
      assign(item.key.keys.map(keyName), item.key, item.value);
      continue;
    }
    const path = item.resolvedKey.map(String);
    const [root, host, key] = path;
    if (root !== 'hosts') {
      fileIssues.push({
        severity: 'warning',
        code: 'profile.topLevel',
        ...at(item),
        message: `unknown table [${path.map(showKey).join('.')}] (ignored)`,
        hint: 'each profile is a table [hosts."HOST"]; nothing else belongs in the file',
      });
      continue;
    }
    if (item.kind === 'array') {
      const where = host === undefined ? undefined : hostDraft(host, item);
      const message = `[[${path.map(showKey).join('.')}]] is an array of tables`;
      const hint = 'write each profile once, as [hosts."HOST"]';
      if (where) where.errors.push({ ...at(item), code: 'profile.notTable', message, hint });
      else
        fileIssues.push({ severity: 'error', code: 'profile.hosts', ...at(item), message, hint });
      continue;
    }
    if (host === undefined) {
      // [hosts] with `NAME.key = …` or `NAME = { … }` lines.
      for (const kv of item.body) assign(['hosts', ...kv.key.keys.map(keyName)], kv.key, kv.value);
      continue;
    }
    const draft = hostDraft(host, item);
    if (key !== undefined) {
      draft.subTables.push({ key, node: item });
      continue;
    }
    draft.table = item;
    Object.assign(draft, at(item));
    for (const kv of item.body) {
      const [first = '', ...rest] = kv.key.keys.map(keyName);
      draft.entries.push({
        key: first,
        rest,
        keyNode: kv.key,
        value: kv.value,
        ...(rest.length === 0 ? { node: kv } : {}),
      });
    }
  }
  return { hosts, fileIssues };
}
