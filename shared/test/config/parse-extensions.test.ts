import { describe, expect, it } from 'vitest';
import { parseConfig } from '@knock/shared';

const door = (lines: string) => `[ssh]\nsequence = 1228,1227\n${lines}\n`;
const errors = (text: string) =>
  parseConfig(text, 'k.conf')
    .issues.filter((i) => i.severity === 'error')
    .map((i) => ({ code: i.code, line: i.line }));

describe('parseConfig: firewall extension limits', () => {
  it('accepts a grant or ban of up to a year', () => {
    const { config, issues } = parseConfig(
      door('open_ports = 22/tcp\nopen_timeout = 31536000\nban = 31536000'),
    );
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(config.doors[0]).toMatchObject({ openTimeout: 31_536_000, ban: 31_536_000 });
  });

  it('rejects longer ones, which nftables cannot hold, pointing at the line', () => {
    expect(errors(door('open_ports = 22/tcp\nopen_timeout = 31536001'))).toEqual([
      { code: 'config.seconds.firewallRange', line: 4 },
    ]);
    const [issue] = parseConfig(door('ban = 99999999'), 'k.conf').issues;
    expect(issue).toMatchObject({ code: 'config.seconds.firewallRange', line: 3 });
    expect(issue?.hint).toContain('Ban = 0');
  });
});
