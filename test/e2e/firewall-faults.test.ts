/**
 * knock-server when its firewall backend is missing or failing, with the real binary
 * in a lab's server namespace. `nft` is taken away by PATH (the daemon runs nft from
 * PATH; Debian installs it only in /usr/sbin) or replaced by a stub that fails.
 * Whatever happens, the daemon must not pretend the door works: it refuses to start
 * (ExitCode.firewall, nft's own message), or says at each knock that nothing was
 * opened, and a failure at reload (nft, or a Trusted_File with errors) leaves the
 * running rules as they were.
 */
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeUnless } from '../helpers/describe.js';
import { ExitCode } from '@knock/shared';
import { createLab, netnsSkipReason, waitFor, type Lab } from '../helpers/netns.js';
import {
  buildServer,
  play,
  serverLinkReady,
  startKnockServer,
  Workdir,
  type RunningDaemon,
} from '../helpers/daemon.js';
import { startListener } from '../helpers/lab-services.js';

const NFT = '/usr/sbin/nft';
const skip =
  netnsSkipReason ??
  (existsSync(NFT) && !existsSync('/usr/bin/nft') && !existsSync('/bin/nft')
    ? undefined
    : `needs nft in ${NFT} only (Debian's nftables), so that PATH can hide it`);

/** Protected by the doors below; a listener answers on it in the server namespace. */
const PORT = 2222;
/** PATH without /usr/sbin: no nft (Debian puts it only there); ip, sh, env still found. */
const NO_NFT_PATH = '/usr/bin:/bin';

describeUnless(skip, `knock-server with nft missing or failing, or a broken trusted file`, () => {
  let lab: Lab;
  let work: Workdir;
  let listener: ChildProcess | undefined;
  let daemon: RunningDaemon | undefined;
  let stubPath: string;
  /** While this file exists, the stub nft fails every call; else it runs the real one. */
  let breakFlag: string;

  const config = (options: string, extra = '') =>
    work.write(
      'knockd.conf',
      `[options]
  LogFile = ${work.file('knockd.log')}
${options}
[open]
  Sequence     = 7000,8000
  Open_Ports   = ${PORT}/tcp
  Open_Timeout = 30
${extra}`,
    );
  const start = (conf: string, path: string) => {
    daemon = startKnockServer(lab, ['-i', lab.serverIf, '-c', conf, '-v'], { PATH: path });
    return daemon;
  };
  const connects = async (src: string) =>
    (await lab.client.exec(['nc', '-z', '-w1', '-s', src, lab.server4, String(PORT)])).code === 0;
  const table = async () => lab.server.exec([NFT, 'list', 'table', 'inet', 'knock']);

  beforeAll(async () => {
    await buildServer();
    lab = await createLab({ extraClients: 5 });
    await serverLinkReady(lab);
    work = new Workdir();
    mkdirSync(work.file('bin'));
    stubPath = `${work.file('bin')}:${NO_NFT_PATH}`;
    breakFlag = work.file('nft-broken');
    const stub = work.write(
      'bin/nft',
      `#!/bin/sh
if [ -e ${breakFlag} ]; then
  echo "netlink: Error: Could not process rule: No buffer space available (stub)" >&2
  exit 1
fi
exec ${NFT} "$@"
`,
    );
    chmodSync(stub, 0o755);
    listener = await startListener(lab.server, [PORT]);
  }, 60_000);

  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    rmSync(breakFlag, { force: true });
    await lab?.server.exec([NFT, 'delete', 'table', 'inet', 'knock']);
  });

  afterAll(async () => {
    listener?.kill('SIGKILL');
    await lab?.destroy();
    work?.remove();
  });

  it('Firewall = nftables without nft on PATH: refuses to start, exit 10, says where nft is', async () => {
    const d = start(config('  Firewall = nftables'), NO_NFT_PATH);
    expect(await waitFor(() => d.exitCode !== undefined, 15_000)).toBe(true);
    expect(d.exitCode).toBe(ExitCode.firewall);
    const stderr = d.errors.join('\n');
    expect(stderr).toContain(
      `nft: not on PATH (${NO_NFT_PATH}), but installed in /usr/sbin: add /usr/sbin to PATH`,
    );
    expect(stderr).toContain('knock-server did not start');
    expect(d.lines.join('\n')).not.toContain('starting up');
    expect((await table()).code).not.toBe(0);
  });

  it("nft failing at start: refuses to start, exit 10, with nft's own message", async () => {
    writeFileSync(breakFlag, '');
    const d = start(config('  Firewall = nftables'), stubPath);
    expect(await waitFor(() => d.exitCode !== undefined, 15_000)).toBe(true);
    expect(d.exitCode).toBe(ExitCode.firewall);
    const stderr = d.errors.join('\n');
    expect(stderr).toContain('Could not process rule: No buffer space available (stub)');
    expect(stderr).toContain('knock-server did not start');
    expect(work.read('knockd.log')).toContain('No buffer space available (stub)');
    expect(d.lines.join('\n')).not.toContain('starting up');
  });

  it('nft failing at start with no Firewall line (nftables detected): the same', async () => {
    writeFileSync(breakFlag, '');
    const d = start(config(''), stubPath);
    expect(await waitFor(() => d.exitCode !== undefined, 15_000)).toBe(true);
    expect(d.exitCode).toBe(ExitCode.firewall);
    expect(d.errors.join('\n')).toContain('No buffer space available (stub)');
  });

  it('nft failing after the start: each knock says the port was not opened, and it stays closed', async () => {
    const d = start(config('  Firewall = nftables'), stubPath);
    await d.line(`starting up, listening on ${lab.serverIf}`, 20_000);
    const src = lab.extraClient4[0]!;
    expect(await connects(src)).toBe(false);
    writeFileSync(breakFlag, '');
    await play(lab, [
      { tcp: 7000, src },
      { tcp: 8000, src },
    ]);
    await d.line(`${src}: open: OPEN SESAME`);
    const failed = await d.line(new RegExp(`^${src.replace(/\./g, '\\.')}: open: could not open`));
    expect(failed).toContain(`could not open ${PORT}/tcp`);
    expect(failed).toContain('No buffer space available (stub)');
    expect(d.lines.join('\n')).not.toContain(`${src}: open: opened`);
    expect(await connects(src)).toBe(false);
    expect(d.exitCode).toBeUndefined();
    // nft works again: the next knock opens.
    rmSync(breakFlag);
    await play(lab, [
      { tcp: 7000, src },
      { tcp: 8000, src },
    ]);
    await d.line(`${src}: open: opened ${PORT}/tcp for 30 s`);
    expect(await connects(src)).toBe(true);
  });

  it('nft failing at a reload: logged, the daemon goes on, the rules and grants stay', async () => {
    const conf = config('  Firewall = nftables');
    const d = start(conf, stubPath);
    await d.line(`starting up, listening on ${lab.serverIf}`, 20_000);
    const [, granted, other] = lab.extraClient4 as [string, string, string];
    await play(lab, [
      { tcp: 7000, src: granted },
      { tcp: 8000, src: granted },
    ]);
    await d.line(`${granted}: open: opened ${PORT}/tcp for 30 s`);
    writeFileSync(breakFlag, '');
    const from = d.lines.length;
    d.signal('SIGHUP');
    const failed = await d.line(/firewall setup failed/, 10_000, from);
    expect(failed).toContain('No buffer space available (stub)');
    expect(d.exitCode).toBeUndefined();
    rmSync(breakFlag);
    expect(await connects(granted)).toBe(true);
    expect(await connects(other)).toBe(false);
  });

  it('Firewall = none with Open_Ports: said at the start, and at every knock', async () => {
    const d = start(config('  Firewall = none'), NO_NFT_PATH);
    await d.line(`starting up, listening on ${lab.serverIf}`, 20_000);
    expect(d.lines.join('\n')).toMatch(/Open_Ports or Ban, but there is no firewall backend/);
    const src = lab.extraClient4[3]!;
    await play(lab, [
      { tcp: 7000, src },
      { tcp: 8000, src },
    ]);
    await d.line(`${src}: open: no firewall backend: ${PORT}/tcp not opened`);
    // Nothing protects the port: no table was made, and nobody claimed otherwise.
    expect((await table()).code).not.toBe(0);
  });

  it('a Trusted_File broken at a reload: logged, the hosts trusted before stay trusted', async () => {
    const trusted = lab.extraClient4[4]!;
    const file = work.write('trusted', `${trusted}   # the lab's trusted client\n`);
    const d = start(config(`  Firewall = nftables\n  Trusted_File = ${file}`), stubPath);
    await d.line(`firewall (nftables) set up: protecting ${PORT}/tcp, 1 trusted`, 20_000);
    expect(await connects(trusted)).toBe(true);
    work.write('trusted', `${trusted}\n300.1.2.3\n`);
    const from = d.lines.length;
    d.signal('SIGHUP');
    const problem = await d.line(
      new RegExp(`^${file}:2:1: error: .*300\\.1\\.2\\.3`),
      10_000,
      from,
    );
    expect(problem).toContain('300.1.2.3');
    await d.line(`${file} has errors: keeping the 1 trusted entry loaded before`, 5000, from);
    expect(await connects(trusted)).toBe(true);
    expect(await connects(lab.extraClient4[2]!)).toBe(false);
  });
});
