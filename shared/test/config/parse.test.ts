import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalIp,
  extensionsUsed,
  formatIssue,
  parseConfig,
  serializeConfig,
  type Door,
  type Issue,
} from '@knock/shared';

const seedPath = new URL('../fixtures/seed-knockd.conf', import.meta.url);

const errors = (issues: Issue[]) => issues.filter((i) => i.severity === 'error');
const warnings = (issues: Issue[]) => issues.filter((i) => i.severity === 'warning');
const codes = (issues: Issue[]) => issues.map((i) => i.code);
/** Parses a one-door config whose door body is `body`. */
const door = (body: string) => parseConfig(`[d]\n${body}\n`, 'k.conf');
const onlyDoor = (text: string): Door => {
  const parsed = parseConfig(text);
  expect(parsed.config.doors).toHaveLength(1);
  return parsed.config.doors[0] as Door;
};
const tcp = (port: number) => ({ port, protocol: 'tcp' as const });
const udp = (port: number) => ({ port, protocol: 'udp' as const });

describe('parseConfig: the seed deployment', () => {
  const text = readFileSync(seedPath, 'utf8');
  const { config, issues } = parseConfig(text, 'knockd.conf');

  it('reads it without a single issue', () => {
    expect(issues).toEqual([]);
  });

  it('gives the options and the six doors the admin meant', () => {
    expect(config.options).toEqual({ useSyslog: true, pidFile: '/var/run/knockd.pid' });
    expect(config.doors.map((d) => d.name)).toEqual([
      'opencloseSSH',
      'banned1',
      'banned2',
      'banned3',
      'banned4',
      'banned5',
    ]);
    const [open, ...bans] = config.doors;
    expect(open).toEqual({
      name: 'opencloseSSH',
      line: 7,
      sequence: [tcp(1228), tcp(1227)],
      seqTimeout: 15,
      tcpFlags: { syn: true },
      startCommand: '/etc/rc.d/init.d/knockd accept %IP%',
      cmdTimeout: 10,
    });
    expect(bans.map((d) => d.sequence.map((k) => k.port))).toEqual([
      [1220, 1221],
      [1224, 1225],
      [1226, 1226],
      [1223, 1224],
      [1222, 1222],
    ]);
    for (const ban of bans) {
      expect(ban).toMatchObject({
        seqTimeout: 15,
        tcpFlags: { syn: true },
        startCommand: '/etc/rc.d/init.d/knockd drop %IP%',
        cmdTimeout: 10,
      });
      expect(ban.stopCommand).toBeUndefined();
    }
    expect(extensionsUsed(config)).toEqual([]);
  });
});

describe('parseConfig: [options] directives', () => {
  it('reads UseSyslog, LogFile, PidFile, Interface with case-insensitive keys', () => {
    const { config, issues } = parseConfig(
      '[options]\n  USESYSLOG\n  logfile = /var/log/knockd.log\n  PidFile=/run/k.pid\n  interface = eth1\n',
    );
    expect(issues).toEqual([]);
    expect(config.options).toEqual({
      useSyslog: true,
      logFile: '/var/log/knockd.log',
      pidFile: '/run/k.pid',
      interface: 'eth1',
    });
    expect(config.doors).toEqual([]);
  });

  it('allows several [options] sections, a later value replacing an earlier one', () => {
    const { config, issues } = parseConfig(
      '[options]\nlogfile = /a\n[d]\nsequence = 1\n[options]\nlogfile = /b\n',
    );
    expect(errors(issues)).toEqual([]);
    expect(config.options.logFile).toBe('/b');
    expect(config.doors).toHaveLength(1);
  });

  it('rejects UseSyslog = yes and says to write the bare word', () => {
    const { issues } = parseConfig('[options]\nUseSyslog = yes\n', 'k.conf');
    expect(errors(issues)).toMatchObject([
      { code: 'config.useSyslog.value', file: 'k.conf', line: 2, column: 1 },
    ]);
    expect(issues[0]?.hint).toMatch(/UseSyslog alone/);
  });

  it('reads the extensions Firewall and Trusted_File', () => {
    const { config, issues } = parseConfig(
      '[options]\nFirewall = NFTables\nTrusted_File = /etc/knockd/knockd.trusted\n',
    );
    expect(issues).toEqual([]);
    expect(config.options).toMatchObject({
      firewall: 'nftables',
      trustedFile: '/etc/knockd/knockd.trusted',
    });
    expect(extensionsUsed(config)).toEqual(['Firewall', 'Trusted_File']);
    expect(codes(parseConfig('[options]\nFirewall = pf\n').issues)).toEqual([
      'config.firewall.invalid',
    ]);
  });

  it('reads the extensions Control_Socket and Metrics_Listen, and rejects bad values', () => {
    const { config, issues } = parseConfig(
      '[options]\nControl_Socket = /run/k.sock\nMetrics_Listen = [::1]:9742\n',
    );
    expect(issues).toEqual([]);
    expect(config.options).toMatchObject({
      controlSocket: '/run/k.sock',
      metricsListen: '[::1]:9742',
    });
    expect(extensionsUsed(config)).toEqual(['Control_Socket', 'Metrics_Listen']);
    expect(parseConfig('[options]\ncontrol_socket = None\n').config.options.controlSocket).toBe(
      'none',
    );
    expect(
      parseConfig('[options]\nmetrics_listen = /run/m.sock\n').config.options.metricsListen,
    ).toBe('/run/m.sock');
    expect(parseConfig('[options]\nmetrics_listen = 192.0.2.2:9742 public\n').issues).toEqual([]);
    for (const bad of [
      'localhost:9742',
      '127.0.0.1',
      '127.0.0.1:0',
      '300.0.0.1:80',
      '[::1]:70000',
      '192.0.2.2:9742',
      '0.0.0.0:9742',
      '127.0.0.1:9742 open',
    ])
      expect(codes(parseConfig(`[options]\nMetrics_Listen = ${bad}\n`).issues)).toEqual([
        'config.metricsListen.invalid',
      ]);
    expect(codes(parseConfig('[options]\nControl_Socket = run/k.sock\n').issues)).toEqual([
      'config.controlSocket.invalid',
    ]);
    const text = serializeConfig(config);
    expect(parseConfig(text).config.options).toEqual(config.options);
  });

  it('reads several interfaces separated by commas (extension) and rejects junk names', () => {
    expect(parseConfig('[options]\nInterface = eth0, wlan0\n').config.options.interface).toBe(
      'eth0,wlan0',
    );
    expect(codes(parseConfig('[options]\nInterface = eth0,\n').issues)).toEqual([
      'config.interface.invalid',
    ]);
  });

  it('rejects door directives in [options], naming the directive', () => {
    const { issues } = parseConfig('[options]\nsequence = 1,2\n');
    expect(errors(issues)).toMatchObject([{ code: 'config.directive.doorInOptions', line: 2 }]);
    expect(issues[0]?.message).toMatch(/Sequence belongs in a door/);
  });

  it('warns that an empty LogFile logs nothing, and rejects an empty PidFile', () => {
    expect(warnings(parseConfig('[options]\nLogFile =\n').issues)).toHaveLength(1);
    expect(codes(errors(parseConfig('[options]\nPidFile =\n').issues))).toEqual([
      'config.value.empty',
    ]);
  });
});

describe('parseConfig: door directives', () => {
  it('reads every door directive and its defaults', () => {
    const d = onlyDoor(
      [
        '[all]',
        'Sequence = 7000,8000:udp,9000',
        'Seq_Timeout = 5',
        'TCPFlags = syn,!ack',
        'Start_Command = /bin/open %IP%',
        'Start_Command_6 = /bin/open6 %IP%',
        'Cmd_Timeout = 30',
        'Stop_Command = /bin/close %IP%',
        'Stop_Command_6 = /bin/close6 %IP%',
        'Target = 192.0.2.2',
      ].join('\n'),
    );
    expect(d).toEqual({
      name: 'all',
      line: 1,
      sequence: [tcp(7000), udp(8000), tcp(9000)],
      seqTimeout: 5,
      tcpFlags: { syn: true, ack: false },
      startCommand: '/bin/open %IP%',
      startCommand6: '/bin/open6 %IP%',
      cmdTimeout: 30,
      stopCommand: '/bin/close %IP%',
      stopCommand6: '/bin/close6 %IP%',
      target: '192.0.2.2',
    });
    expect(onlyDoor('[x]\nsequence = 1\n')).toEqual({
      name: 'x',
      line: 1,
      sequence: [tcp(1)],
      seqTimeout: 25,
      tcpFlags: {},
      cmdTimeout: 10,
    });
  });

  it('reads the aliases Timeout, Command and Command_6', () => {
    const { config, issues } = door('sequence = 1\ntimeout = 3\ncommand = a\ncommand_6 = b');
    expect(issues).toEqual([]);
    expect(config.doors[0]).toMatchObject({ seqTimeout: 3, startCommand: 'a', startCommand6: 'b' });
  });

  it('reads One_Time_Sequences as a path, leaving the sequence to the file', () => {
    const { config, issues } = door('one_time_sequences = /etc/knockd/ssh.ots');
    expect(issues).toEqual([]);
    expect(config.doors[0]).toMatchObject({
      sequence: [],
      oneTimeSequences: '/etc/knockd/ssh.ots',
    });
  });

  it('keeps an empty Start_Command_6 (IPv6 knockers run nothing)', () => {
    const d = onlyDoor('[d]\nsequence = 1\nstart_command = open\nstart_command_6 =\n');
    expect(d.startCommand6).toBe('');
  });

  it('splits at the first = so values may contain =', () => {
    const d = onlyDoor('[d]\nsequence=1\ncommand=a=b=c\n');
    expect(d.startCommand).toBe('a=b=c');
  });

  it('keeps the case of values and trims them', () => {
    const d = onlyDoor('[d]\nsequence = 1\nCOMMAND =   /Bin/Run %IP%  \t\n');
    expect(d.startCommand).toBe('/Bin/Run %IP%');
  });

  it('reads the extensions Open_Ports, Open_Timeout and Ban', () => {
    const grant = onlyDoor('[g]\nsequence = 1\nOpen_Ports = 22/tcp, 53/UDP,2222\n');
    expect(grant.openPorts).toEqual([tcp(22), udp(53), tcp(2222)]);
    expect(grant.openTimeout).toBe(300);
    expect(onlyDoor('[g]\nsequence = 1\nopen_ports = 22\nopen_timeout = 60\n').openTimeout).toBe(
      60,
    );
    expect(onlyDoor('[b]\nsequence = 1\nban = 0\n').ban).toBe(0);
    expect(onlyDoor('[b]\nsequence = 1\nban = 3600\n').ban).toBe(3600);
    const bad = door('sequence = 1\nopen_ports = 22:tcp');
    expect(bad.issues).toMatchObject([
      {
        code: 'config.openPorts.invalid',
        line: 3,
        column: 14,
        hint: 'write 22/tcp (Open_Ports uses port/protocol)',
      },
    ]);
    expect(codes(door('sequence = 1\nopen_ports = 22\nopen_timeout = 0').issues)).toEqual([
      'config.openTimeout.zero',
    ]);
  });
});

describe('parseConfig: knockd 0.8 quirks (reference §1)', () => {
  it('skips blank lines and lines whose first non-blank is #, but has no inline comments', () => {
    const parsed = parseConfig('\n   # comment\n\t\n[d]\n  # sequence = 9\nsequence = 1\n');
    expect(parsed.issues).toEqual([]);
    expect(parsed.config.doors[0]?.sequence).toEqual([tcp(1)]);
    // knockd reads "1 # c" as port 1 by accident; "1:tcp # c" fails. Both are errors here.
    const inline = door('sequence = 1 # open ssh');
    expect(errors(inline.issues)).toMatchObject([
      { code: 'config.inlineComment', line: 2, column: 14 },
    ]);
    expect(inline.issues[0]?.message).toMatch(/^knockd.conf has no inline comments/);
    expect(codes(errors(door('sequence = 1:tcp # c').issues))).toEqual(['config.inlineComment']);
    // Text after a port that is not a comment is still the sequence's own error.
    expect(codes(errors(door('sequence = 1 2').issues))).toEqual(['sequence.trailingText']);
  });

  it('matches [options] exactly: [Options] is a door, and its LogFile line says so', () => {
    const { config, issues } = parseConfig('[Options]\nLogFile = /var/log/k.log\n', 'k.conf');
    expect(config.doors.map((d) => d.name)).toEqual(['Options']);
    expect(config.options.logFile).toBeUndefined();
    expect(issues).toMatchObject([
      { severity: 'warning', code: 'config.section.optionsCase', line: 1 },
      { severity: 'error', code: 'config.door.emptySequence', line: 1 },
      { severity: 'error', code: 'config.directive.optionsInDoor', line: 2, column: 1 },
    ]);
    expect(issues[2]?.message).toMatch(/\[Options\] \(line 1\) is a door, not the options section/);
    expect(issues[2]?.hint).toBe('write the header as [options]');
  });

  it('keeps a section name untrimmed and rejects []', () => {
    expect(onlyDoor('[ ssh door ]\nsequence = 1\n').name).toBe(' ssh door ');
    expect(parseConfig('  []  \n').issues).toMatchObject([
      { code: 'config.section.empty', line: 1, column: 3 },
    ]);
  });

  it('allows duplicate door names as separate doors, with a warning', () => {
    const { config, issues } = parseConfig('[d]\nsequence = 1\n[d]\nsequence = 2\n');
    expect(config.doors.map((d) => d.sequence)).toEqual([[tcp(1)], [tcp(2)]]);
    expect(issues).toMatchObject([{ severity: 'warning', code: 'config.door.duplicate', line: 3 }]);
  });

  it('rejects a directive before any section', () => {
    expect(parseConfig('logfile = /x\n[options]\n').issues).toMatchObject([
      { severity: 'error', code: 'config.directive.outsideSection', line: 1, column: 1 },
    ]);
  });

  it('accepts a bare UseSyslog anywhere, doors included, and rejects other bare words', () => {
    const parsed = parseConfig('[d]\nsequence = 1\nusesyslog\n');
    expect(parsed.issues).toEqual([]);
    expect(parsed.config.options.useSyslog).toBe(true);
    expect(codes(door('sequence = 1\nfoo').issues)).toEqual(['config.directive.unknown']);
    expect(door('sequence').issues).toMatchObject([
      { code: 'config.door.emptySequence', line: 1 },
      { code: 'config.directive.noValue', line: 2, hint: 'write Sequence = VALUE' },
    ]);
  });

  it('rejects an unknown key, naming it and suggesting the closest one', () => {
    const { issues } = door('sequence = 1\nseq_timeuot = 5');
    expect(issues).toMatchObject([
      { code: 'config.directive.unknown', line: 3, column: 1, hint: 'did you mean Seq_Timeout?' },
    ]);
    expect(issues[0]?.message).toContain('"seq_timeuot"');
    expect(door('sequence = 1\nxyzzy = 5').issues[0]?.hint).toMatch(/directives in a door: /);
    expect(codes(door('sequence = 1\n= 5').issues)).toEqual(['config.directive.noKey']);
    expect(door('sequence = 1\nlogfile = /x').issues[0]?.message).toMatch(
      /LogFile belongs in \[options\]/,
    );
  });

  it('lets a later Sequence replace an earlier one, with a warning', () => {
    const { config, issues } = door('sequence = 1,2,3\nsequence = 4:udp');
    expect(config.doors[0]?.sequence).toEqual([udp(4)]);
    expect(codes(issues)).toEqual(['config.sequence.replaced']);
    const ots = door('sequence = 1\none_time_sequences = /x.ots');
    expect(ots.config.doors[0]).toMatchObject({ sequence: [], oneTimeSequences: '/x.ots' });
    expect(codes(ots.issues)).toEqual(['config.sequence.replaced']);
    const back = door('one_time_sequences = /x.ots\nsequence = 1');
    expect(codes(errors(back.issues))).toEqual(['config.sequence.afterOneTime']);
  });

  it('reports what knockd misreads in Sequence, at the right column', () => {
    const cases: [string, string, number][] = [
      ['7000,8000,', 'sequence.emptyElement', 24],
      ['80, ssh', 'sequence.serviceName', 18],
      ['-1', 'sequence.portNegative', 14],
      ['70000', 'sequence.portRange', 14],
      ['1:icmp', 'sequence.protocol', 14],
      ['', 'sequence.empty', 13],
    ];
    for (const [value, code, column] of cases) {
      const { issues } = door(`  sequence = ${value}`);
      expect(
        issues.find((i) => i.code === code),
        value,
      ).toMatchObject({ line: 2, column });
    }
    expect(onlyDoor('[d]\nsequence = 1 : udp,2:Udp,3:TCP\n').sequence).toEqual([
      udp(1),
      udp(2),
      tcp(3),
    ]);
    expect(codes(door('sequence = 2:tcp:junk').issues)).toEqual(['sequence.extraField']);
  });

  it('rejects a door with no sequence: section X has an empty knock sequence', () => {
    const { issues } = parseConfig('[lonely]\ncommand = x\n', 'k.conf');
    expect(issues).toMatchObject([
      { code: 'config.door.emptySequence', file: 'k.conf', line: 1, column: 0 },
    ]);
    expect(issues[0]?.message).toBe("section 'lonely' has an empty knock sequence");
    expect(issues[0]?.hint).toMatch(/Sequence = /);
  });

  it('accumulates TCPFlags lines, the last word on a flag winning', () => {
    expect(onlyDoor('[d]\nsequence=1\ntcpflags = syn\ntcpflags = ack\n').tcpFlags).toEqual({
      syn: true,
      ack: true,
    });
    expect(onlyDoor('[d]\nsequence=1\ntcpflags = syn\ntcpflags = !syn\n').tcpFlags).toEqual({
      syn: false,
    });
    expect(onlyDoor('[d]\nsequence=1\ntcpflags = FIN,!Rst,psh,URG\n').tcpFlags).toEqual({
      fin: true,
      rst: false,
      psh: true,
      urg: true,
    });
  });

  it('rejects "syn, ack" (knockd does not trim flags) with the hint syn,ack', () => {
    const { issues } = door('sequence = 1\ntcpflags = syn, ack');
    expect(issues).toMatchObject([
      { code: 'config.tcpFlags.spaces', line: 3, column: 16, hint: 'write TCPFlags = syn,ack' },
    ]);
    expect(issues[0]?.message).toContain('" ACK"');
    expect(codes(door('sequence = 1\ntcpflags =').issues)).toEqual(['config.tcpFlags.empty']);
    expect(codes(door('sequence = 1\ntcpflags = syn,,ack').issues)).toEqual([
      'config.tcpFlags.emptyFlag',
    ]);
    expect(codes(door('sequence = 1\ntcpflags = syn,fun').issues)).toEqual([
      'config.tcpFlags.unknown',
    ]);
  });

  it('rejects timeouts that atoi() misreads, with the value to write', () => {
    const cases: [string, string, string][] = [
      ['7s', 'config.seconds.trailing', 'write Seq_Timeout = 7'],
      ['abc', 'config.seconds.notNumeric', 'write a number of seconds, e.g. Seq_Timeout = 25'],
      ['-5', 'config.seconds.negative', 'e.g. Seq_Timeout = 25'],
      ['', 'config.value.empty', 'Seq_Timeout = 25'],
      ['99999999999', 'config.seconds.range', 'at most'],
      ['15 # seconds', 'config.inlineComment', 'put the comment on its own line'],
    ];
    for (const [value, code, hint] of cases) {
      const { issues } = door(`sequence = 1\nseq_timeout = ${value}`);
      expect(codes(errors(issues)), value).toEqual([code]);
      expect(issues[0]?.hint, value).toContain(hint);
    }
    expect(
      codes(door('sequence = 1\ncmd_timeout = 1m\nstop_command = x\ncommand = y').issues),
    ).toEqual(['config.seconds.trailing']);
    expect(onlyDoor('[d]\nsequence = 1\nseq_timeout = 015\n').seqTimeout).toBe(15);
  });

  it('requires an IP literal in Target, spelled as knockd prints it', () => {
    expect(onlyDoor('[d]\nsequence = 1\ntarget = 2001:db8::2\n').target).toBe('2001:db8::2');
    expect(door('sequence = 1\ntarget = knock.example').issues).toMatchObject([
      { code: 'config.target.invalid', line: 3, column: 10 },
    ]);
    expect(door('sequence = 1\ntarget = 2001:DB8:0:0::2').issues).toMatchObject([
      { code: 'config.target.notCanonical', hint: 'write Target = 2001:db8::2' },
    ]);
  });

  it('rejects a byte-order mark, a NUL byte and a line longer than knockd reads', () => {
    expect(codes(parseConfig('\uFEFF[d]\nsequence = 1\n').issues)).toEqual(['config.bom']);
    expect(codes(parseConfig('[d]\nsequence = 1\0junk\n').issues)).toEqual(['config.line.nul']);
    const long = door(`sequence = 1\ncommand = ${'x'.repeat(5000)}`);
    expect(codes(long.issues)).toEqual(['config.line.tooLong']);
  });

  it('warns about door names knockd cuts and commands it would refuse to run', () => {
    expect(codes(parseConfig(`[${'d'.repeat(128)}]\nsequence = 1\n`).issues)).toEqual([
      'config.door.nameTooLong',
    ]);
    expect(parseConfig(`[${'d'.repeat(127)}]\nsequence = 1\n`).issues).toEqual([]);
    const command = `/bin/fw ${'%IP% '.repeat(100)}${'x'.repeat(100)}`;
    expect(codes(door(`sequence = 1\ncommand = ${command}`).issues)).toEqual([
      'config.command.tooLong',
    ]);
    expect(door(`sequence = 1\ncommand = /bin/fw ${'%IP% '.repeat(10)}`).issues).toEqual([]);
  });

  it('reads CRLF files like knockd, whose trim() removes the \\r', () => {
    const d = onlyDoor('[d]\r\nsequence = 1,2\r\ncommand = run %IP%\r\n');
    expect(d).toMatchObject({ name: 'd', sequence: [tcp(1), tcp(2)], startCommand: 'run %IP%' });
  });
});

describe('parseConfig: warnings for configs that work but surprise', () => {
  it('warns about Seq_Timeout 0 on a multi-knock door only', () => {
    expect(codes(door('sequence = 1,2\nseq_timeout = 0').issues)).toEqual([
      'config.seqTimeout.zero',
    ]);
    expect(door('sequence = 1\nseq_timeout = 0').issues).toEqual([]);
  });

  it('warns about Cmd_Timeout without Stop_Command, and Stop_Command without Start_Command', () => {
    expect(codes(door('sequence = 1\ncommand = a\ncmd_timeout = 5').issues)).toEqual([
      'config.cmdTimeout.unused',
    ]);
    expect(codes(door('sequence = 1\nstop_command = b').issues)).toEqual([
      'config.stopCommand.noStart',
    ]);
    expect(door('sequence = 1\ncommand = a\nstop_command = b\ncmd_timeout = 5').issues).toEqual([]);
  });

  it('warns about empty start and stop commands', () => {
    expect(warnings(door('sequence = 1\ncommand =').issues)).toMatchObject([
      { code: 'config.command.empty' },
    ]);
  });
});

describe('canonicalIp', () => {
  it('spells addresses as inet_ntop does', () => {
    const cases: [string, string][] = [
      ['::', '::'],
      ['::1', '::1'],
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['1:0:0:1::', '1:0:0:1::'],
      ['::ffff:0102:0304', '::ffff:1.2.3.4'],
      ['::1.2.3.4', '::1.2.3.4'],
      ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
      ['0001:02::3', '1:2::3'],
    ];
    for (const [input, output] of cases) expect(canonicalIp(input)?.text, input).toBe(output);
    for (const bad of ['1.2.3', '256.1.1.1', '1:2', '1::2::3', 'fe80::1%eth0', 'host'])
      expect(canonicalIp(bad), bad).toBeUndefined();
    expect(canonicalIp('192.0.2.1')).toEqual({ family: 4, text: '192.0.2.1' });
  });
});

// ------------------------------------------------------------------------------------------
// Properties.

const tokens = [
  '[options]',
  '[Options]',
  '[d]',
  '[]',
  '[',
  ']',
  '=',
  ',',
  ':',
  '!',
  '#',
  ' ',
  '\t',
  '\r',
  'usesyslog',
  'logfile',
  'sequence',
  'one_time_sequences',
  'seq_timeout',
  'timeout',
  'tcpflags',
  'start_command',
  'command_6',
  'cmd_timeout',
  'stop_command',
  'target',
  'open_ports',
  'open_timeout',
  'ban',
  'firewall',
  'syn',
  'ack',
  'udp',
  'tcp',
  '22/tcp',
  '%IP%',
  '0',
  '1',
  '-1',
  '65536',
  '7000',
  '::1',
  '127.0.0.1',
  '\uFEFF',
  '\0',
];
const configLine = fc
  .array(fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 4 })), { maxLength: 8 })
  .map((parts) => parts.join(''));
const configText = fc.array(configLine, { maxLength: 30 }).map((lines) => lines.join('\n'));

describe('parseConfig: properties', () => {
  it('never throws on arbitrary text, and every issue is located', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), configText), (text) => {
        const { config, issues } = parseConfig(text, 'f');
        const lineCount = text.split('\n').length;
        for (const issue of issues) {
          expect(issue.file).toBe('f');
          expect(issue.line).toBeGreaterThanOrEqual(1);
          expect(issue.line).toBeLessThanOrEqual(lineCount);
          expect(issue.column).toBeGreaterThanOrEqual(0);
          expect(formatIssue(issue)).toContain(`f:${issue.line}`);
          if (issue.severity === 'error') expect(issue.hint).toBeTruthy();
        }
        expect(Array.isArray(config.doors)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('reads a file with CRLF line endings as the same file with LF', () => {
    fc.assert(
      fc.property(configText, (text) => {
        const lf = text.replace(/\r/g, '');
        expect(parseConfig(lf.replace(/\n/g, '\r\n'))).toEqual(parseConfig(lf));
      }),
      { numRuns: 300 },
    );
  });
});
