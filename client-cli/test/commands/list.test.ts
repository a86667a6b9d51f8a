import { describe, expect, it } from 'vitest';
import { fake, profile, run, tcp, udp } from '../helpers/fake-deps.js';

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

  it('says where it looked when the default file does not exist', async () => {
    const { code, stdout, f } = await run(['list']);
    expect(code).toBe(0);
    expect(f.loads).toEqual([{}]);
    expect(stdout).toContain('no profiles: /home/u/.config/knock/config.toml does not exist');
    expect(stdout).toContain('$KNOCK_CONFIG');
  });

  // issue 9 item 10: a file named by -c (or $KNOCK_CONFIG) that does not exist is exit 3.
  it.each([
    [['list', '--config', '/tmp/none.toml'], {}, '-c/--config'],
    [['list', '-c', '/tmp/none.toml'], {}, '-c/--config'],
    [['-c', '/tmp/none.toml', 'list'], {}, '-c/--config'],
    [['list'], { KNOCK_CONFIG: '/tmp/none.toml' }, '$KNOCK_CONFIG'],
  ])('%j with %j: a named file that does not exist is exit 3', async (argv, env, via) => {
    const f = fake({ profilePath: '/tmp/none.toml' });
    Object.assign(f.deps.env, env);
    const { code, stdout, stderr } = await run(argv, f);
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toContain(`the profile file /tmp/none.toml (named by ${via}) does not exist`);
  });

  it('an empty file', async () => {
    const { stdout } = await run(['list'], { profiles: [], profileFileExists: true });
    expect(stdout).toBe('profiles in /home/u/.config/knock/config.toml:\n  (none)\n');
  });
});
