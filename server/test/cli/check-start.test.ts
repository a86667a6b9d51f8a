/**
 * Issue 9 item 3: `check` runs every check of the start that needs no root, so "OK" means
 * "will start"; it warns about what can never work; --strict fails on warnings.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import { createProgram } from '../../src/cli/program.js';
import type { StartCheckDeps } from '../../src/cli/start-checks.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'knock-check-start-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const HOST: StartCheckDeps = {
  interfaceNames: async () => new Set(['lo', 'eth0', 'eth1']),
  lookup: async (name) => (name === 'ssh.example' ? ['192.0.2.9'] : []),
  has: async () => true,
  interfaceUp: async (name) => name !== 'eth1',
};

async function check(conf: string, args: string[] = [], deps: StartCheckDeps = HOST) {
  const file = join(dir, 'knockd.conf');
  writeFileSync(file, conf);
  const out: string[] = [];
  const program = createProgram({
    version: '0',
    stdout: (t) => void out.push(t),
    stderr: (t) => void out.push(t),
    runServer: () => Promise.reject(new Error('no daemon')),
    startChecks: deps,
  });
  let code = 0;
  let message = '';
  try {
    await program.parseAsync(['check', '-c', file, ...args], { from: 'user' });
  } catch (error) {
    if (error instanceof KnockError || error instanceof CommanderError) {
      code = error.exitCode;
      message = error.message;
    } else throw error;
  }
  return { code, out: out.join(''), message, file };
}

const DOOR = '[ssh]\n  Sequence = 1228,1227\n  Command = true\n';

describe('check runs the checks of the start', () => {
  it('a valid config says OK and names what it could not check', async () => {
    const r = await check(`[options]\n  Interface = eth0\n${DOOR}`);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${r.file}: OK, 1 door\n`);
    expect(r.out).toContain('not checked here: opening the capture (needs CAP_NET_RAW');
  });

  it('a missing Trusted_File is an error at its line', async () => {
    const r = await check(`[options]\n  Trusted_File = ${dir}/none.trusted\n${DOOR}`);
    expect(r.code).toBe(ExitCode.failure);
    expect(r.out).toContain(`${r.file}:2: error: Trusted_File: cannot read trusted file`);
    expect(r.out).toContain('ENOENT');
  });

  it('an unreadable Trusted_File is an error', async () => {
    const trusted = join(dir, 'k.trusted');
    writeFileSync(trusted, '192.0.2.1\n');
    const r = await check(`[options]\n  Trusted_File = ${trusted}\n${DOOR}`, [], {
      ...HOST,
      readFile: async (path) => {
        if (path === trusted) throw Object.assign(new Error('denied'), { code: 'EACCES' });
        const { readFile } = await import('node:fs/promises');
        return readFile(path, 'utf8');
      },
    });
    expect(r.code).toBe(ExitCode.failure);
    expect(r.out).toContain('EACCES');
  });

  it.each(['10.0.0.0/33', 'not_a_host!'])(
    'a Trusted_File line %s is an error naming file:line',
    async (bad) => {
      const trusted = join(dir, 'k.trusted');
      writeFileSync(trusted, `ssh.example\n${bad}\n`);
      const r = await check(`[options]\n  Trusted_File = ${trusted}\n${DOOR}`);
      expect(r.code).toBe(ExitCode.failure);
      expect(r.out).toMatch(
        new RegExp(`${trusted}:2:1: error: .*${bad.replace(/[.!/]/g, '\\$&')}`),
      );
    },
  );

  it('a missing Interface is an error listing the ones there are', async () => {
    const r = await check(`[options]\n  Interface = eth0,wlan9\n${DOOR}`);
    expect(r.code).toBe(ExitCode.failure);
    expect(r.out).toContain(`${r.file}:2: error: Interface wlan9: no such interface on this host`);
    expect(r.out).toContain('here: eth0, eth1, lo');
  });

  it('an Interface that is down is an error (the start would fail)', async () => {
    const r = await check(`[options]\n  Interface = eth1\n${DOOR}`);
    expect(r.code).toBe(ExitCode.failure);
    expect(r.out).toContain(
      `${r.file}:2: error: Interface eth1 is down: knock-server would not start`,
    );
  });

  it('an Interface this host cannot look up is named as not checked', async () => {
    const r = await check(`[options]\n  Interface = eth0\n${DOOR}`, [], {
      ...HOST,
      interfaceNames: async () => undefined,
    });
    expect(r.code).toBe(0);
    expect(r.out).toContain('not checked here: Interface eth0');
  });

  it('a LogFile or PidFile in a missing directory is an error', async () => {
    for (const directive of ['LogFile', 'PidFile']) {
      const r = await check(`[options]\n  ${directive} = ${dir}/no/such/k.x\n${DOOR}`);
      expect(r.code, directive).toBe(ExitCode.failure);
      expect(r.out).toContain(
        `${r.file}:2: error: ${directive} ${dir}/no/such/k.x: the directory ${dir}/no/such does not exist`,
      );
    }
    const ok = await check(`[options]\n  LogFile = ${dir}/k.log\n${DOOR}`);
    expect(ok.code).toBe(0);
  });

  it('a firewall backend whose tool is missing is an error; none at all a warning', async () => {
    const only = (...programs: string[]) => ({
      ...HOST,
      has: async (p: string) => programs.includes(p),
    });
    const GRANT = '[ssh]\n  Sequence = 1228\n  Open_Ports = 22/tcp\n';
    const nft = await check(`[options]\n  Firewall = nftables\n${GRANT}`, [], only('iptables'));
    expect(nft.code).toBe(ExitCode.failure);
    expect(nft.out).toContain(
      `${nft.file}:2: error: Firewall = nftables, but nft is not installed`,
    );
    const ipt = await check(`[options]\n  Firewall = iptables\n${GRANT}`, [], only('iptables'));
    expect(ipt.out).toContain('but ip6tables is not installed');
    const none = await check(GRANT, [], only());
    expect(none.code).toBe(0);
    expect(none.out).toContain(
      "warning: neither nft nor iptables is installed: door 'ssh' would open no port",
    );
    const chosen = await check(`[options]\n  Firewall = none\n${GRANT}`, [], only('nft'));
    expect(chosen.out).toContain("warning: Firewall = none: door 'ssh' would open no port");
    expect((await check(GRANT, [], only('nft'))).out).not.toMatch(/warning|error/);
  });

  it('a config with a firewall door says the firewall setup was not checked', async () => {
    const r = await check('[ssh]\n  Sequence = 1228\n  Open_Ports = 22/tcp\n');
    expect(r.code).toBe(0);
    expect(r.out).toContain('not checked here: setting up the firewall (needs root');
  });
});

describe('warnings for what can never work, and --strict', () => {
  it.each([
    ['TCPFlags = syn,!syn', `${DOOR}  TCPFlags = syn,!syn\n`, 'config.tcpFlags.contradiction'],
    [
      'TCPFlags on a UDP-only door',
      '[u]\n  Sequence = 1:udp,2:udp\n  TCPFlags = syn\n  Command = true\n',
      'TCPFlags has no effect',
    ],
    ['a door that does nothing', '[d]\n  Sequence = 1228\n', 'does nothing when knocked'],
    [
      'two doors, one sequence',
      `${DOOR}[ssh2]\n  Sequence = 1228,1227\n  Command = true\n`,
      'the same knocks open both',
    ],
    [
      '[ssh] beside [SSH]',
      `${DOOR}[SSH]\n  Sequence = 99\n  Command = true\n`,
      'differ only in case',
    ],
    [
      '[options] twice',
      `[options]\n  UseSyslog\n${DOOR}[options]\n  LogFile = ${'/'}tmp/k.log\n`,
      'a second [options] section',
    ],
  ])('%s: a warning; exit 0, or 1 with --strict', async (_name, conf, text) => {
    const r = await check(conf);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/: warning: /);
    expect(r.out + JSON.stringify(r)).toContain(
      text.startsWith('config.') ? 'both set and not set' : text,
    );
    const strict = await check(conf, ['--strict']);
    expect(strict.code).toBe(ExitCode.failure);
    expect(strict.message).toMatch(/warning.*--strict/);
  });

  it('--strict passes a config without warnings', async () => {
    expect((await check(DOOR, ['--strict'])).code).toBe(0);
  });
});
