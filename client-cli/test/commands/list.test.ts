import { describe, expect, it } from 'vitest';
import { profile, run, tcp, udp } from '../helpers/fake-deps.js';

describe('knock list', () => {
  it('shows each profile and the file', async () => {
    const { code, stdout } = await run(['list'], {
      profiles: [
        profile('ssh.maths.fr', { sequence: [tcp(1228), tcp(1227)], port: 22 }),
        profile('vpn.test', { sequence: [udp(7000)], family: 'ipv6', delayMs: 100 }),
        profile('ots.test', { oneTimeSequences: '/home/u/ots.txt', port: 2222 }),
      ],
    });
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        'profiles in /home/u/.config/knock/config.toml:',
        '  ssh.maths.fr  1228,1227                  port 22    any',
        '  vpn.test      7000:udp                   -          ipv6  delay 100 ms',
        '  ots.test      one-time: /home/u/ots.txt  port 2222  any',
        '',
      ].join('\n'),
    );
  });

  it('says where it looked when there is no file', async () => {
    const { code, stdout, f } = await run(['list', '--config', '/tmp/none.toml']);
    expect(code).toBe(0);
    expect(f.loads).toEqual([{ path: '/tmp/none.toml' }]);
    expect(stdout).toContain('no profiles: /tmp/none.toml does not exist');
    expect(stdout).toContain('$KNOCK_CONFIG');
  });

  it('an empty file', async () => {
    const { stdout } = await run(['list'], { profiles: [], profileFileExists: true });
    expect(stdout).toBe('profiles in /home/u/.config/knock/config.toml:\n  (none)\n');
  });
});
