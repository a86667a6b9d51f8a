// lintConfig (issue 9 item 3): what parses but can never work as written.
import { describe, expect, it } from 'vitest';
import { lintConfig, parseConfig } from '@knock/shared';

const lint = (text: string) => {
  const parsed = parseConfig(text, 'k.conf');
  expect(parsed.issues.filter((i) => i.severity === 'error')).toEqual([]);
  return lintConfig(text, parsed.config, 'k.conf').map((i) => `${i.line} ${i.code}`);
};
const DOOR = '[ssh]\n  Sequence = 1228,1227\n  Command = true\n';

describe('lintConfig', () => {
  it('a sound config: nothing', () => {
    expect(
      lint(`[options]\n  UseSyslog\n${DOOR}[ban]\n  Sequence = 1220:udp\n  Ban = 60\n`),
    ).toEqual([]);
  });

  it('a door that does nothing when knocked', () => {
    expect(lint('[d]\n  Sequence = 1\n')).toEqual(['1 config.door.noAction']);
    expect(lint('[d]\n  Sequence = 1\n  Start_Command_6 = true\n')).toEqual([]);
    expect(lint('[d]\n  Sequence = 1\n  Open_Ports = 22/tcp\n')).toEqual([]);
  });

  it('two doors with the same sequence (and target), or the same one-time file', () => {
    expect(lint(`${DOOR}[b]\n  Sequence = 1228 , 1227\n  Command = true\n`)).toEqual([
      '4 config.door.sameSequence',
    ]);
    expect(lint(`${DOOR}[b]\n  Sequence = 1228,1227:udp\n  Command = true\n`)).toEqual([]);
    expect(
      lint(`${DOOR}[b]\n  Sequence = 1228,1227\n  Target = 192.0.2.9\n  Command = true\n`),
    ).toEqual([]);
    const ots = '[a]\n  One_Time_Sequences = /srv/k.ots\n  Command = true\n';
    expect(lint(`${ots}${ots.replace('[a]', '[b]')}`)).toEqual(['4 config.door.sameOneTimeFile']);
  });

  it('TCPFlags on a door whose knocks are all UDP', () => {
    expect(lint('[u]\n  Sequence = 1:udp\n  TCPFlags = syn\n  Command = true\n')).toEqual([
      '1 config.tcpFlags.udpOnly',
    ]);
    expect(lint('[u]\n  Sequence = 1:udp,2\n  TCPFlags = syn\n  Command = true\n')).toEqual([]);
  });

  it('door names that differ only in case; [options] twice', () => {
    expect(lint(`${DOOR}[SSH]\n  Sequence = 2\n  Command = true\n`)).toEqual([
      '4 config.door.caseDuplicate',
    ]);
    expect(
      lint(`[options]\n  UseSyslog\n${DOOR}  [options]\n  LogFile = /var/log/k.log\n`),
    ).toEqual(['6 config.options.repeated']);
  });
});
