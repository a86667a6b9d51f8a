import { afterEach, describe, expect, it } from 'vitest';
import { notFound, showArgv, systemExec } from '../../src/firewall/exec.js';

describe('systemExec', () => {
  it('runs an argv (no shell) and gives the exit code, stdout and stderr', async () => {
    expect(await systemExec('sh', ['-c', 'echo out; echo err >&2; exit 3'])).toEqual({
      code: 3,
      stdout: 'out\n',
      stderr: 'err\n',
    });
    // An argument with shell syntax is one argument, never interpreted.
    expect(await systemExec('echo', ['$(id) ; rm -rf /'])).toEqual({
      code: 0,
      stdout: '$(id) ; rm -rf /\n',
      stderr: '',
    });
  });

  it('feeds opts.input on stdin', async () => {
    expect(await systemExec('cat', [], { input: 'add table inet knock\n' })).toMatchObject({
      code: 0,
      stdout: 'add table inet knock\n',
    });
  });

  it('a program that does not exist is exit 127 with "command not found"', async () => {
    expect(await systemExec('knock-no-such-program', ['-S'], { input: 'x' })).toEqual({
      code: 127,
      stdout: '',
      stderr: 'knock-no-such-program: command not found',
    });
  });
});

describe('notFound', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  it('says when the program is installed in a system directory that PATH lacks', () => {
    process.env.PATH = '/nonexistent';
    expect(notFound('sh')).toMatch(
      /^sh: not on PATH \(\/nonexistent\), but installed in (\/usr)?\/bin: add (\/usr)?\/bin to PATH$/,
    );
    expect(notFound('knock-no-such-program')).toBe('knock-no-such-program: command not found');
  });
});

describe('showArgv', () => {
  it('quotes only what a shell would split or expand', () => {
    expect(showArgv('nft', ['-f', '-'])).toBe('nft -f -');
    expect(showArgv('iptables', ['--log-prefix', '[knock,drop] '])).toBe(
      "iptables --log-prefix '[knock,drop] '",
    );
    expect(showArgv('sh', ['-c', "it's"])).toBe(`sh -c 'it'\\''s'`);
    expect(showArgv('ip', ['addr', '2001:db8::1/64', 'user@host', '%IP%'])).toBe(
      'ip addr 2001:db8::1/64 user@host %IP%',
    );
  });
});
