import { describe, expect, it } from 'vitest';
import {
  checkDirectiveTable,
  epilogueSections,
  markdownInline,
  markdownTable,
  renderManPage,
  roffText,
  valueKind,
  type CommandSpec,
} from '@knock/shared/cli-docs';

const README = `
## Config

### Doors

| directive (alias) | default | meaning |
| --- | --- | --- |
| \`Sequence = P[:tcp\\|udp],…\` | required | the knock |
| \`Seq_Timeout\` (\`Timeout\`) | 25 | seconds |

### Next
`;

describe('roff text', () => {
  it('escapes backslashes, hyphens, leading dots and non-ASCII', () => {
    expect(roffText('.start \\n -x …')).toBe('\\&.start \\en \\-x \\[u2026]');
    expect(roffText("'quote")).toBe("\\&'quote");
  });
  it('markdown code spans are bold, escaped pipes plain', () => {
    expect(markdownInline('`a\\|b` or `-c`')).toBe('\\fBa|b\\fR or \\fB\\-c\\fR');
  });

  it('shows a link by its text: a README section as such, a web page with its address', () => {
    expect(markdownInline('see [Rotating sequences](#rotating-sequences) and `x`')).toBe(
      'see Rotating sequences in the README and \\fBx\\fR',
    );
    expect(markdownInline('[uqr](https://github.com/unjs/uqr)')).toBe(
      'uqr <https://github.com/unjs/uqr>',
    );
  });
});

describe('README directive tables', () => {
  it('reads the rows under a heading, with every directive name of a row', () => {
    const rows = markdownTable(README, '### Doors');
    expect(rows.map((r) => r.names)).toEqual([['Sequence'], ['Seq_Timeout', 'Timeout']]);
    expect(rows[0]?.term).toBe('`Sequence = P[:tcp\\|udp],…`');
  });
  it('a heading that is missing is an error naming it', () => {
    expect(() => markdownTable(README, '### Options')).toThrow(/no heading "### Options"/);
  });
  it('a directive the parser knows and the table lacks, or the reverse, is reported', () => {
    const rows = markdownTable(README, '### Doors');
    expect(checkDirectiveTable(rows, ['Sequence', 'Seq_Timeout', 'Timeout'], 'doors')).toEqual([]);
    expect(
      checkDirectiveTable(rows, ['Sequence', 'Seq_Timeout', 'Timeout', 'Ban'], 'doors'),
    ).toEqual(["doors: the parser knows Ban, the README's table does not document it"]);
    expect(checkDirectiveTable(rows, ['Sequence', 'Timeout'], 'doors')).toEqual([
      "doors: the README's table documents seq_timeout, which the parser does not know",
    ]);
  });
});

describe('man page from a command tree', () => {
  const spec: CommandSpec = {
    name: 'tool',
    description: 'Does things.\nMore about it.',
    usage: '[options] [command]',
    options: [
      {
        flags: '-c, --config <file>',
        short: '-c',
        long: '--config',
        description: 'the file',
        takes: 'required',
        valueName: 'file',
        kind: 'file',
        mandatory: false,
      },
    ],
    arguments: [],
    commands: [
      {
        name: 'run',
        description: 'run it',
        usage: '[options]',
        options: [],
        arguments: [],
        commands: [],
      },
    ],
    epilogue: 'Examples:\n  tool run\n\nExit codes:\n   0  ok',
  };
  it('has NAME, SYNOPSIS with every command path, OPTIONS, COMMANDS and the epilogue as sections', () => {
    const page = renderManPage({ spec, section: '1', source: 'tool 1.0', manual: 'User Commands' });
    expect(page).toContain('.TH TOOL 1 "" "tool 1.0" "User Commands"');
    expect(page).toContain('tool \\- Does things');
    expect(page).toContain('\\fBtool run\\fR [options]');
    expect(page).toContain('\\fB\\-c, \\-\\-config\\fR \\fI<file>\\fR');
    expect(page).toContain('.SH EXAMPLES\n.PP\n.nf\n.RS 4\n  tool run\n');
    expect(page).toContain('.SH EXIT CODES');
  });
  it('epilogue headings may carry text on their line', () => {
    expect(epilogueSections('Config: /etc/x unless -c\n  more\n')).toEqual([
      { title: 'Config', body: '/etc/x unless -c\n  more' },
    ]);
  });
  it('values are classified by name for completion', () => {
    expect(valueKind('file')).toBe('file');
    expect(valueKind('host')).toBe('host');
    expect(valueKind('x', ['a'])).toBe('choice');
    expect(valueKind('seconds')).toBe('any');
    expect(valueKind(undefined)).toBe('none');
  });
});
