/**
 * Differential test against Debian's real knockd 0.8: every config it rejects, we reject
 * too; for every config we accept without error, knockd's parsed doors (printed by -D)
 * are ours. Configs knockd silently misreads are accepted by knockd and rejected by us.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  currentSequence,
  extensionsUsed,
  parseConfig,
  serializeConfig,
  type Door,
  type KnockdConfig,
  type TcpFlag,
} from '@knock/shared';
import { arbitraryConfig } from './arbitraries.js';

const KNOCKD = '/usr/sbin/knockd';

function skipReason(): string | undefined {
  try {
    accessSync(KNOCKD, constants.X_OK);
  } catch {
    return `needs Debian's knockd at ${KNOCKD} (apt-get install knockd, or scripts/setup.sh)`;
  }
  if (process.getuid?.() !== 0) return 'needs root: knockd opens a capture on lo';
  return undefined;
}
const reason = skipReason();

const dir = mkdtempSync(join(tmpdir(), 'knockd-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface KnockdRun {
  /** knockd exited by itself (a config error) instead of starting to capture. */
  rejected: boolean;
  stdout: string;
  stderr: string;
}

let counter = 0;
/** Runs knockd -D on the config until it has parsed it (then kills it), at most 2 s. */
function runKnockd(text: string): Promise<KnockdRun> {
  const file = join(dir, `k${counter++}.conf`);
  writeFileSync(file, text);
  return new Promise((resolve) => {
    const child = spawn(KNOCKD, ['-c', file, '-i', 'lo', '-D'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const stop = () => {
      if (!killed && child.exitCode === null) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(stop, 2000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // Printed once the config is parsed and the capture is open; the BPF is compiled
      // right after (a bad Target fails there), so give it a moment to exit by itself.
      if (stdout.includes('ethernet interface detected')) setTimeout(stop, 300);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ rejected: !killed, stdout, stderr });
    });
  });
}

type KnockdDoor = Pick<
  Door,
  | 'name'
  | 'sequence'
  | 'seqTimeout'
  | 'cmdTimeout'
  | 'tcpFlags'
  | 'startCommand'
  | 'startCommand6'
  | 'stopCommand'
  | 'stopCommand6'
  | 'target'
>;

/** The doors knockd parsed, rebuilt from its -D lines ("config: NAME: sequence: 1:tcp,2:udp" …). */
function knockdDoors(stdout: string): KnockdDoor[] {
  const doors: KnockdDoor[] = [];
  let current: KnockdDoor | undefined;
  for (const line of stdout.split('\n')) {
    const section = /^config: new section: '(.*)'$/s.exec(line);
    if (section) {
      const name = section[1] ?? '';
      current =
        name === 'options'
          ? current
          : { name, sequence: [], seqTimeout: 25, cmdTimeout: 10, tcpFlags: {} };
      if (name !== 'options' && current) doors.push(current);
      continue;
    }
    const flag = /^config: tcp flag: (!?)([A-Z]+)$/.exec(line);
    if (flag && current) {
      current.tcpFlags[(flag[2] ?? '').toLowerCase() as TcpFlag] = flag[1] !== '!';
      continue;
    }
    if (!current || !line.startsWith(`config: ${current.name}: `)) continue;
    const rest = line.slice(`config: ${current.name}: `.length);
    const field = /^([a-z_0-9 ]+): ?(.*)$/s.exec(rest);
    if (!field) continue;
    const [, key, value = ''] = field;
    switch (key) {
      case 'sequence':
        current.sequence = value.split(',').map((k) => {
          const [port, protocol] = k.split(':');
          return { port: Number(port), protocol: protocol === 'udp' ? 'udp' : 'tcp' };
        });
        break;
      case 'seq_timeout':
        current.seqTimeout = Number(value);
        break;
      case 'cmd_timeout':
        current.cmdTimeout = Number(value);
        break;
      case 'start_command':
        current.startCommand = value;
        break;
      case 'start_command_6':
        current.startCommand6 = value;
        break;
      case 'stop_command':
        current.stopCommand = value;
        break;
      case 'stop_command_6':
        current.stopCommand6 = value;
        break;
      case 'target':
        current.target = value;
        break;
    }
  }
  return doors;
}

const ourDoors = (config: KnockdConfig): KnockdDoor[] =>
  config.doors.map((d) => {
    const door: KnockdDoor = {
      name: d.name,
      sequence: d.sequence,
      seqTimeout: d.seqTimeout,
      cmdTimeout: d.cmdTimeout,
      tcpFlags: d.tcpFlags,
    };
    for (const key of [
      'startCommand',
      'startCommand6',
      'stopCommand',
      'stopCommand6',
      'target',
    ] as const) {
      if (d[key] !== undefined) door[key] = d[key];
    }
    return door;
  });

const log = () => join(dir, 'knockd.log');

/** Configs knockd runs as their authors meant: both must read the same doors. */
const valid: [string, string][] = [
  [
    'the seed deployment',
    readFileSync(new URL('../fixtures/seed-knockd.conf', import.meta.url), 'utf8'),
  ],
  [
    'every door directive',
    `[options]\n  LogFile = ${log()}\n[all]\n  Sequence = 7000,8000:udp,9000\n  Seq_Timeout = 5\n  TCPFlags = syn,!ack\n  Start_Command = /bin/true %IP%\n  Start_Command_6 = /bin/true six %IP%\n  Cmd_Timeout = 30\n  Stop_Command = /bin/false %IP%\n  Stop_Command_6 = /bin/false six\n  Target = 127.0.0.1\n`,
  ],
  [
    'aliases, upper-case keys, tabs',
    '[d]\n\tSEQUENCE=1:UDP , 2\n\tTIMEOUT=3\n\tCOMMAND=a=b=c\n\tCOMMAND_6=x\n',
  ],
  ['an empty Start_Command_6', '[d]\nsequence = 1\nstart_command = run\nstart_command_6 =\n'],
  ['bare UseSyslog in a door', '[d]\nsequence = 1\nusesyslog\n'],
  [
    'several [options] and doors',
    `[options]\nlogfile = ${log()}\n[a]\nsequence = 1\n[options]\nusesyslog\n[b]\nsequence = 2\n`,
  ],
  [
    'accumulated TCPFlags, last word wins',
    '[d]\nsequence = 1\ntcpflags = syn,ack\ntcpflags = !syn\n',
  ],
  ['a later Sequence replaces', '[d]\nsequence = 1,2,3\nsequence = 4:udp\n'],
  ['CRLF line endings', '[d]\r\nsequence = 1,2\r\ncommand = run %IP%\r\n'],
  ['duplicate door names and an untrimmed name', '[ d ]\nsequence = 1\n[ d ]\nsequence = 2\n'],
  ['comments and blank lines', '# top\n\n[d]\n   # sequence = 9\nsequence = 1226,1226\n'],
];

/** Configs knockd accepts but misreads: we must reject them, with the given code. */
const misread: [string, string, string][] = [
  ['trailing comma (port 0)', '[d]\nsequence = 7000,8000,\n', 'sequence.emptyElement'],
  ['service name (port 0)', '[d]\nsequence = ssh\n', 'sequence.serviceName'],
  ['negative port (65535)', '[d]\nsequence = -1\n', 'sequence.portNegative'],
  ['inline comment after a port', '[d]\nsequence = 1 # knock\n', 'config.inlineComment'],
  ['empty Sequence (port 0)', '[d]\nsequence =\n', 'sequence.empty'],
  ['7s timeout', '[d]\nsequence = 1\nseq_timeout = 7s\n', 'config.seconds.trailing'],
  ['abc timeout', '[d]\nsequence = 1\nseq_timeout = abc\n', 'config.seconds.notNumeric'],
  ['negative timeout', '[d]\nsequence = 1\ncmd_timeout = -5\n', 'config.seconds.negative'],
  [
    'non-canonical Target',
    '[d]\nsequence = 1\ntarget = 0:0:0:0:0:0:0:1\n',
    'config.target.notCanonical',
  ],
];

/** Configs knockd refuses to start with: we must reject them too. */
const rejected: [string, string][] = [
  ['"syn, ack"', '[d]\nsequence = 1\ntcpflags = syn, ack\n'],
  ['empty TCPFlags', '[d]\nsequence = 1\ntcpflags =\n'],
  ['UseSyslog = yes', '[options]\nusesyslog = yes\n'],
  ['unknown key', '[d]\nsequence = 1\nsequnce = 2\n'],
  ['directive before any section', 'sequence = 1\n[d]\nsequence = 1\n'],
  ['[]', '[]\n'],
  ['[Options] with LogFile', `[Options]\nlogfile = ${log()}\n`],
  ['door with no sequence', '[d]\ncommand = x\n'],
  ['bare Sequence', '[d]\nsequence\n'],
  ['inline comment after a protocol', '[d]\nsequence = 1:tcp # c\n'],
  ['port above 65535', '[d]\nsequence = 70000\n'],
  ['unknown protocol', '[d]\nsequence = 1:icmp\n'],
  ['33 ports', `[d]\nsequence = ${Array.from({ length: 33 }, (_, i) => i + 1).join(',')}\n`],
  ['Target that is no address', '[d]\nsequence = 1\ntarget = not-an-ip\n'],
  ['door directive in [options]', '[options]\nsequence = 1\n'],
];

/** Our extensions: knockd rejects them; we accept them and name them in extensionsUsed(). */
const extensions: [string, string][] = [
  ['Open_Ports', '[d]\nsequence = 1\nopen_ports = 22/tcp\nopen_timeout = 60\n'],
  ['Ban', '[d]\nsequence = 1\nban = 3600\n'],
  ['Firewall', '[options]\nfirewall = nftables\n[d]\nsequence = 1\n'],
  ['Trusted_File', '[options]\ntrusted_file = /etc/knockd.trusted\n[d]\nsequence = 1\n'],
  ['Cluster', '[options]\ncluster = redis://192.0.2.5:6379/0\n[d]\nsequence = 1\n'],
  [
    'Sequence_Secret (rotating sequences)',
    '[d]\nsequence_secret = JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\nsequence_length = 4\nsequence_step = 30\nsequence_ports = 10000-65000\nsequence_skew = 1\n',
  ],
  ['Control_Socket', '[options]\ncontrol_socket = /run/knock-server.sock\n[d]\nsequence = 1\n'],
  ['Metrics_Listen', '[options]\nmetrics_listen = 127.0.0.1:9742\n[d]\nsequence = 1\n'],
];

describe.skipIf(reason !== undefined)(
  `knockd.conf against Debian's knockd${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    it.each(valid)('reads %s as knockd does', async (_name, text) => {
      const ours = parseConfig(text);
      expect(ours.issues.filter((i) => i.severity === 'error')).toEqual([]);
      const run = await runKnockd(text);
      expect(run.rejected, run.stderr).toBe(false);
      expect(ourDoors(ours.config)).toEqual(knockdDoors(run.stdout));
    });

    it.each(misread)('rejects what knockd misreads: %s', async (_name, text, code) => {
      const run = await runKnockd(text);
      expect(run.rejected, run.stderr).toBe(false);
      const errors = parseConfig(text).issues.filter((i) => i.severity === 'error');
      expect(errors.map((i) => i.code)).toContain(code);
      expect(errors.every((i) => i.hint)).toBe(true);
    });

    it.each(rejected)('rejects what knockd rejects: %s', async (_name, text) => {
      const run = await runKnockd(text);
      expect(run.rejected).toBe(true);
      expect(run.stderr).not.toBe('');
      expect(parseConfig(text).issues.filter((i) => i.severity === 'error')).not.toEqual([]);
    });

    it.each(extensions)(
      'knockd rejects the extension %s, which we accept and name',
      async (name, text) => {
        const run = await runKnockd(text);
        expect(run.rejected).toBe(true);
        const ours = parseConfig(text);
        expect(ours.issues).toEqual([]);
        expect(extensionsUsed(ours.config)).toContain(name);
      },
    );

    it('runs a One_Time_Sequences door from the file, reading its first valid line', async () => {
      const ots = join(dir, 'door.ots');
      writeFileSync(ots, '# header\n\n#001,2\n 7001:udp,7002\n 7003,7004\n');
      const text = `[d]\none_time_sequences = ${ots}\n`;
      expect(parseConfig(text).issues).toEqual([]);
      const run = await runKnockd(text);
      expect(run.rejected, run.stderr).toBe(false);
      expect(knockdDoors(run.stdout)[0]?.sequence).toEqual([
        { port: 7001, protocol: 'udp' },
        { port: 7002, protocol: 'tcp' },
      ]);
      expect(currentSequence(readFileSync(ots, 'utf8'))?.knocks).toEqual(
        knockdDoors(run.stdout)[0]?.sequence,
      );
    });

    it('accepts what serializeConfig writes for configs without extensions', async () => {
      const samples = fc.sample(arbitraryConfig(), { numRuns: 6, seed: 1046 });
      for (const sample of samples) {
        const config: KnockdConfig = {
          options: { useSyslog: sample.options.useSyslog, logFile: log() },
          doors: sample.doors
            .filter((d) => d.oneTimeSequences === undefined)
            .map(({ openPorts: _o, openTimeout: _t, ban: _b, ...door }) => door),
        };
        const text = serializeConfig(config);
        const run = await runKnockd(text);
        const doors = ourDoors(config);
        if (doors.length === 0) {
          // No door at all: knockd still starts (with nothing to watch).
          expect(run.rejected, run.stderr).toBe(false);
          continue;
        }
        expect(run.rejected, `${run.stderr}\n${text}`).toBe(false);
        expect(knockdDoors(run.stdout)).toEqual(doors);
      }
    });
  },
);
