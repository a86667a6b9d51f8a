/**
 * Man pages in roff (the man macros), generated from the same sources as `--help` and
 * the README: a program's command tree (spec.ts) for knock(1) and knock-server(8), and
 * the README's directive tables, checked against the parser's directive lists, for
 * knockd.conf(5). Pure: text in, text out.
 */
import { walkCommands, type CommandSpec, type OptionSpec } from './spec.js';

/** Text for a roff text line: backslashes, and the characters roff would read as markup. */
export function roffText(text: string): string {
  return (
    text
      .replace(/\\/g, '\\e')
      .replace(/-/g, '\\-')
      // groff reads ASCII: anything else as its Unicode escape (\[u2026] for …).
      .replace(
        /[^\t\n -~]/gu,
        (c) => `\\[u${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}]`,
      )
      .replace(/^([.'])/gm, '\\&$1')
  );
}

/** Markdown inline (`code`, \|, **bold**) to roff. */
export function markdownInline(text: string): string {
  const parts = text.replace(/\\\|/g, '|').split('`');
  return parts
    .map((part, i) =>
      i % 2 === 1
        ? `\\fB${roffText(part)}\\fR`
        : roffText(markdownLinks(part)).replace(/\*\*([^*]+)\*\*/g, '\\fB$1\\fR'),
    )
    .join('');
}

/** A link as a page can show it: a README section by its title, a web page with its address. */
const markdownLinks = (text: string): string =>
  text.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label: string, target: string) =>
    target.startsWith('#') ? `${label} in the README` : `${label} <${target}>`,
  );

/** Lines shown as they are (.nf), each made safe for roff. */
function verbatim(text: string): string[] {
  const lines = text.replace(/\s+$/, '').split('\n');
  return [
    '.PP',
    '.nf',
    '.RS 4',
    ...lines.map((l) => (l === '' ? '.sp' : roffText(l))),
    '.RE',
    '.fi',
  ];
}

/** A paragraph (filled), blank lines starting new ones. */
function paragraphs(text: string): string[] {
  return text
    .trim()
    .split(/\n\s*\n/)
    .flatMap((p) => ['.PP', ...p.split('\n').map((l) => roffText(l.trim()))]);
}

/** `-c, --config <file>` in bold with its value in italics. */
function optionTerm(option: OptionSpec): string {
  const [names = '', value] = option.flags.split(/ (?=[<[])/);
  return `\\fB${roffText(names)}\\fR${value ? ` \\fI${roffText(value)}\\fR` : ''}`;
}

function optionList(options: readonly OptionSpec[]): string[] {
  return options.flatMap((o) => [
    '.TP',
    optionTerm(o),
    roffText(o.description + (o.mandatory ? ' (required)' : '')),
  ]);
}

/**
 * The text after `--help`'s generated part, as man sections: a line `Title:` (or
 * `Title: text`) at the start of a line opens a section, its lines shown as written.
 */
export function epilogueSections(text: string): { title: string; body: string }[] {
  const sections: { title: string; body: string[] }[] = [];
  for (const line of text.replace(/^\n+/, '').split('\n')) {
    const heading = /^([A-Z][A-Za-z -]*):(?:\s+(.*))?$/.exec(line);
    if (heading) {
      sections.push({ title: heading[1] ?? '', body: heading[2] ? [heading[2]] : [] });
      continue;
    }
    const current = sections.at(-1);
    if (current) current.body.push(line);
    else sections.push({ title: '', body: [line] });
  }
  return sections.map((s) => ({
    title: s.title,
    body: s.body.join('\n').replace(/^\n+|\s+$/g, ''),
  }));
}

export interface ManPageOptions {
  spec: CommandSpec;
  section: '1' | '5' | '8';
  /** The package and version shown in the footer: `knock 0.1.0`. */
  source: string;
  manual: string;
  /** Sections added after the generated ones (FILES, SEE ALSO …), in order. */
  extra?: { title: string; text: string }[];
}

const TH = (name: string, section: string, source: string, manual: string) =>
  `.TH ${name.toUpperCase()} ${section} "" "${source}" "${manual}"`;

/** The man page of a program, from its command tree. */
export function renderManPage(options: ManPageOptions): string {
  const { spec, section, source, manual } = options;
  const [summary = '', ...rest] = spec.description.split('\n');
  const out: string[] = [
    `.\\" Generated from \`${spec.name} --help\` by scripts/gen-man.mjs. Do not edit; regenerate.`,
    TH(spec.name, section, source, manual),
    '.SH NAME',
    `${roffText(spec.name)} \\- ${roffText(summary.replace(/\.$/, ''))}`,
    '.SH SYNOPSIS',
  ];
  const commands = walkCommands(spec).filter(
    ({ path, command }) => path.length === 0 || command.name !== 'help',
  );
  commands.forEach(({ path, command }, i) => {
    if (i > 0) out.push('.br');
    out.push(`\\fB${roffText([spec.name, ...path].join(' '))}\\fR ${roffText(command.usage)}`);
  });
  out.push('.SH DESCRIPTION', ...paragraphs([summary, ...rest].join('\n')));
  if (spec.options.length > 0) out.push('.SH OPTIONS', ...optionList(spec.options));
  const subs = commands.filter(({ path }) => path.length > 0);
  if (subs.length > 0) {
    out.push('.SH COMMANDS');
    for (const { path, command } of subs) {
      out.push(`.SS "${roffText([spec.name, ...path].join(' '))} ${roffText(command.usage)}"`);
      out.push(...paragraphs(command.description));
      out.push(...optionList(command.options));
      if (command.epilogue) out.push(...verbatim(command.epilogue));
    }
  }
  for (const { title, body } of epilogueSections(spec.epilogue ?? '')) {
    if (title) out.push(`.SH ${roffText(title.toUpperCase())}`);
    if (body) out.push(...verbatim(body));
  }
  for (const { title, text } of options.extra ?? [])
    out.push(`.SH ${roffText(title.toUpperCase())}`, ...paragraphs(text));
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------- knockd.conf(5)

export interface DirectiveRow {
  /** The first cell, markdown: "`Seq_Timeout` (`Timeout`)". */
  term: string;
  default: string;
  meaning: string;
  /** The directive names the row documents (the words in backticks, up to `=`). */
  names: string[];
}

/** The rows of the first markdown table after the heading line `heading`. */
export function markdownTable(markdown: string, heading: string): DirectiveRow[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) throw new Error(`README.md has no heading "${heading}"`);
  const rows: DirectiveRow[] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('|')) {
      if (inTable) break;
      if (/^#/.test(line)) break;
      continue;
    }
    inTable = true;
    const cells = line
      .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    if (cells.every((c) => /^-+$/.test(c)) || /^directive/.test(cells[0] ?? '')) continue;
    const [term = '', dflt = '', meaning = ''] = cells;
    const names = [...term.matchAll(/`([A-Za-z_0-9]+)/g)].map((m) => m[1] ?? '');
    rows.push({ term, default: dflt, meaning, names });
  }
  if (rows.length === 0) throw new Error(`README.md has no table under "${heading}"`);
  return rows;
}

/**
 * Checks that `rows` document exactly `directives` (case-insensitive): none missing, none
 * unknown. Returns the problems, empty when the table and the parser agree.
 */
export function checkDirectiveTable(
  rows: readonly DirectiveRow[],
  directives: readonly string[],
  where: string,
): string[] {
  const documented = new Set(rows.flatMap((r) => r.names.map((n) => n.toLowerCase())));
  const known = new Set(directives.map((d) => d.toLowerCase()));
  return [
    ...directives
      .filter((d) => !documented.has(d.toLowerCase()))
      .map((d) => `${where}: the parser knows ${d}, the README's table does not document it`),
    ...[...documented]
      .filter((d) => !known.has(d))
      .map((d) => `${where}: the README's table documents ${d}, which the parser does not know`),
  ];
}

export interface ConfigManPageOptions {
  source: string;
  optionsRows: readonly DirectiveRow[];
  doorRows: readonly DirectiveRow[];
  /** Directives knockd 0.8 rejects (marked as extensions). */
  extensions: readonly string[];
  /** The README's introduction to the format (markdown paragraphs). */
  intro: string;
  /** An example config, shown as written. */
  example?: string;
  extra?: { title: string; text: string }[];
}

function directiveList(rows: readonly DirectiveRow[], extensions: readonly string[]): string[] {
  const ext = new Set(extensions.map((e) => e.toLowerCase()));
  return rows.flatMap((row) => {
    const isExtension = row.names.some((n) => ext.has(n.toLowerCase()));
    // The mark below says it once, for the directives that are extensions.
    const meaning = isExtension
      ? row.meaning.replace(/^extension: /, '').replace(/ \(extension[^)]*\)$/, '')
      : row.meaning;
    const dflt = row.default.trim();
    const sentence = /[.!?]$/.test(meaning) ? meaning : `${meaning}.`;
    return [
      '.TP',
      markdownInline(row.term),
      markdownInline(sentence) +
        (dflt && dflt !== 'required' ? ` Default: ${markdownInline(dflt)}.` : '') +
        (dflt === 'required' ? ' Required.' : ''),
      ...(isExtension
        ? ['.br', '\\fI(Extension: knock\\-server only; knockd 0.8 rejects this directive.)\\fR']
        : []),
    ];
  });
}

/** knockd.conf(5). */
export function renderConfigManPage(options: ConfigManPageOptions): string {
  const out = [
    `.\\" Generated from README.md's directive tables by scripts/gen-man.mjs. Do not edit; regenerate.`,
    TH('knockd.conf', '5', options.source, 'File Formats'),
    '.SH NAME',
    'knockd.conf \\- configuration file of knock\\-server (and of knockd 0.8)',
    '.SH DESCRIPTION',
    ...options.intro
      .trim()
      .split(/\n\s*\n/)
      .flatMap((p) => ['.PP', markdownInline(p.replace(/\n/g, ' '))]),
    '.PP',
    "Directives marked \\fI(Extension)\\fR are knock\\-server's own: knockd 0.8 refuses a " +
      'config that uses them, and \\fBknock\\-server check\\fR lists the ones a file uses.',
    '.SH "[options]"',
    ...directiveList(options.optionsRows, options.extensions),
    '.SH DOORS',
    '.PP',
    'Every section other than \\fB[options]\\fR is a door, named by its section.',
    ...directiveList(options.doorRows, options.extensions),
  ];
  if (options.example) out.push('.SH EXAMPLE', ...verbatim(options.example));
  for (const { title, text } of options.extra ?? [])
    out.push(`.SH ${roffText(title.toUpperCase())}`, ...paragraphs(text));
  return out.join('\n') + '\n';
}
