/**
 * Capture faults a daemon must survive or explain: the interface deleted while
 * capturing (an error, then a reopen once it is back), an interface going down,
 * opening a missing or down interface, and no permission to capture.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNetns } from '../helpers/describe.js';
import { ExitCode } from '@knock/shared';
import { createLab, waitFor, type Lab } from '../helpers/netns.js';
import { startProbe, type Probe, type ProbeError } from './helpers/probe.js';

const FILTER = 'tcp dst port 1228';
const syn = (host: string) => ['bash', '-c', `exec 3<>/dev/tcp/${host}/1228`];

describeNetns(`capture faults`, () => {
  let lab: Lab;
  const probes: Probe[] = [];

  beforeAll(async () => {
    lab = await createLab();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(probes.map((p) => p.stop()));
    await lab?.destroy();
  });

  const probe = (prefix: string[] = []) => {
    const p = startProbe(lab.server, prefix);
    probes.push(p);
    return p;
  };

  /** Re-creates the lab's veth pair with its addresses (after it was deleted). */
  async function recreateVeth(): Promise<void> {
    await lab.server.sh(
      `ip link add ${lab.serverIf} type veth peer name ${lab.clientIf} netns ${lab.client.name}`,
    );
    await lab.server.sh(
      `ip addr add ${lab.server4}/24 dev ${lab.serverIf} && ip addr add ${lab.server6}/64 dev ${lab.serverIf} nodad && ip link set ${lab.serverIf} up`,
    );
    await lab.client.sh(
      `ip addr add ${lab.client4}/24 dev ${lab.clientIf} && ip addr add ${lab.client6}/64 dev ${lab.clientIf} nodad && ip link set ${lab.clientIf} up`,
    );
  }

  it('reports a deleted interface through onError, then reopens once it is back', async () => {
    const p = probe();
    await p.call('open', { options: { interfaces: [lab.serverIf], filter: FILTER } });
    await lab.client.exec(syn(lab.server4));
    await p.event((e) => e.dstPort === 1228);

    await lab.server.sh(`ip link del ${lab.serverIf}`);
    expect(await waitFor(() => p.errors.length > 0, 5000)).toBe(true);
    expect(p.errors[0]).toMatchObject({
      code: 'capture.lost',
      exitCode: ExitCode.capture,
      message: expect.stringContaining(`capture on "${lab.serverIf}" stopped`),
    });
    expect((await p.call('stats')).failed).toEqual([lab.serverIf]);

    // Still gone: reopen says so, and the probe (the daemon) lives on.
    const stillGone = await p.call('reopen').catch((e: ProbeError) => e);
    expect(stillGone).toMatchObject({
      code: 'capture.noInterface',
      message: expect.stringMatching(
        new RegExp(`^no such interface "${lab.serverIf}" \\(available: .*lo`),
      ),
    });

    await recreateVeth();
    const reopened = await p.call('reopen');
    expect(reopened.failed).toEqual([]);
    p.clear();
    await waitFor(
      async () => (await lab.client.exec(['ping', '-c1', '-W1', lab.server4])).code === 0,
      10_000,
    );
    await lab.client.exec(syn(lab.server4));
    expect(await p.event((e) => e.dstPort === 1228)).toMatchObject({
      src: lab.client4,
      dst: lab.server4,
    });
    await p.stop();
  });

  it('reports an interface that goes down, refuses to open it while down, and recovers when up', async () => {
    const p = probe();
    await p.call('open', { options: { interfaces: [lab.serverIf], filter: FILTER } });
    await lab.server.sh(`ip link set ${lab.serverIf} down`);
    expect(await waitFor(() => p.errors.length > 0, 5000)).toBe(true);
    expect(p.errors[0]).toMatchObject({ code: 'capture.lost' });

    const fresh = probe();
    const down = await fresh
      .call('open', { options: { interfaces: [lab.serverIf], filter: FILTER } })
      .catch((e: ProbeError) => e);
    expect(down).toMatchObject({
      code: 'capture.interfaceDown',
      exitCode: ExitCode.capture,
      message: `interface "${lab.serverIf}" is down`,
      hint: expect.stringContaining(`ip link set ${lab.serverIf} up`),
    });
    await fresh.stop();

    await lab.server.sh(`ip link set ${lab.serverIf} up`);
    await waitFor(
      async () => (await lab.client.exec(['ping', '-c1', '-W1', lab.server4])).code === 0,
      10_000,
    );
    await p.call('reopen');
    p.clear();
    await lab.client.exec(syn(lab.server4));
    await p.event((e) => e.dstPort === 1228);
    await p.stop();
  });

  it('names a missing interface at start and lists those that exist', async () => {
    const p = probe();
    const error = await p
      .call('open', { options: { interfaces: [lab.serverIf, 'eth7'], filter: FILTER } })
      .catch((e: ProbeError) => e);
    expect(error).toMatchObject({
      code: 'capture.noInterface',
      exitCode: ExitCode.capture,
      message: `no such interface "eth7" (available: ${lab.serverIf}, any, lo)`,
    });
    await p.stop();
  });

  it('refuses a link type it cannot decode, naming it', async () => {
    // libpcap's nflog source (netfilter log, DLT 239) exists in every namespace.
    const p = probe();
    const error = await p
      .call('open', { options: { interfaces: ['nflog'], filter: '' } })
      .catch((e: ProbeError) => e);
    expect(error).toMatchObject({
      code: 'capture.linkType',
      exitCode: ExitCode.capture,
      message: 'interface "nflog" has link type DLT 239, which knock-server cannot decode',
    });
    await p.stop();
  });

  it('explains a missing CAP_NET_RAW with the permission exit code', async () => {
    const p = probe(['setpriv', '--bounding-set', '-net_raw', '--inh-caps', '-net_raw']);
    const error = await p
      .call('open', { options: { interfaces: [lab.serverIf], filter: FILTER } })
      .catch((e: ProbeError) => e);
    expect(error).toMatchObject({
      code: 'capture.permission',
      exitCode: ExitCode.permission,
      message: expect.stringContaining(`no permission to capture on "${lab.serverIf}"`),
      hint: expect.stringMatching(/root.*CAP_NET_RAW/),
    });
    await p.stop();
  });
});
