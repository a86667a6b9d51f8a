import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNetns } from './describe.js';
import { createLab, type Lab } from './netns.js';

describeNetns(`network namespace lab`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ extraClients: 2 });
  });
  afterAll(async () => lab?.destroy());

  it('connects client and server over IPv4 and IPv6, from every client address', async () => {
    expect((await lab.client.exec(['ping', '-c1', '-W2', lab.server4])).code).toBe(0);
    expect((await lab.client.exec(['ping', '-6', '-c1', '-W2', lab.server6])).code).toBe(0);
    for (const src of lab.extraClient4) {
      expect((await lab.client.exec(['ping', '-c1', '-W2', '-I', src, lab.server4])).code).toBe(0);
    }
  });

  it('has no route out of the lab', async () => {
    const routes = await lab.server.sh('ip route show default; ip -6 route show default');
    expect(routes.trim()).toBe('');
  });
});
