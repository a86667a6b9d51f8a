import { describe, expect, it } from 'vitest';
import { knownHostsName, parseSshConfig } from '../src/ssh-config.js';

describe('parseSshConfig (ssh -G output)', () => {
  it('reads host, hostname, port, address family', () => {
    expect(
      parseSshConfig(
        'host lab\nuser me\nhostname lab.test\nport 2222\naddressfamily inet6\nproxycommand none\n',
      ),
    ).toEqual({
      host: 'lab',
      hostname: 'lab.test',
      port: 2222,
      addressFamily: 'inet6',
      hostKeyAlias: undefined,
      proxy: undefined,
    });
  });

  it('reports a HostKeyAlias and a proxy', () => {
    const t = parseSshConfig('hostname h\nport 22\nhostkeyalias alias\nproxycommand nc %h %p\n');
    expect(t?.hostKeyAlias).toBe('alias');
    expect(t?.proxy).toBe('nc %h %p');
    expect(parseSshConfig('hostname h\nproxyjump gw\n')?.proxy).toBe('ProxyJump gw');
  });

  it('defaults and bad output', () => {
    expect(parseSshConfig('hostname h\n')).toMatchObject({ port: 22, addressFamily: 'any' });
    expect(parseSshConfig('')).toBeUndefined();
    expect(parseSshConfig('hostname h\nport 99999\n')).toBeUndefined();
  });
});

describe('knownHostsName', () => {
  it('is the name on port 22, [name]:port elsewhere', () => {
    expect(knownHostsName('h', 22)).toBe('h');
    expect(knownHostsName('h', 2222)).toBe('[h]:2222');
  });
});
