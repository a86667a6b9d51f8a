import { afterAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { isLoopback, parseListen, startOperations } from '../../src/control/operations.js';
import { request } from '../../src/control/client.js';
import { FakeActions, MemoryLog, config, fakeDaemon } from '../daemon/fakes.js';
import { PrometheusText } from '../helpers/prometheus-text.js';

const dir = mkdtempSync(join(tmpdir(), 'knock-ops-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function setup(options: string) {
  const text = `[options]\n${options}\n[ssh]\n  sequence = 7000,8000\n  command = x\n`;
  const { daemon, actions, log, memory } = fakeDaemon(text, {
    loadConfig: () => Promise.reject(new Error('unused')),
    maxAttempts: 100,
  });
  await daemon.start();
  const ops = await startOperations({ daemon, actions, log, config: config(text), version: '1' });
  return { ops, memory, daemon };
}

const get = (socketPath: string, path: string) =>
  new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = httpRequest({ socketPath, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });

describe('operations: control socket and Metrics_Listen', () => {
  it('serves status on Control_Socket and metrics over HTTP on a Metrics_Listen socket', async () => {
    const socket = join(dir, 'ctl.sock');
    const metrics = join(dir, 'metrics.sock');
    const t = await setup(`  Control_Socket = ${socket}\n  Metrics_Listen = ${metrics}`);
    try {
      expect(t.ops.controlSocket).toBe(socket);
      expect(await request(socket, 'status')).toMatchObject({ ok: true, status: { version: '1' } });
      expect(statSync(metrics).mode & 0o777).toBe(0o600);
      const res = await get(metrics, '/metrics');
      expect(res.status).toBe(200);
      expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(new PrometheusText(res.body).value('knock_server_door_armed', { door: 'ssh' })).toBe(
        1,
      );
      expect((await get(metrics, '/')).status).toBe(404);
      expect(t.memory.messages).toContain(`Prometheus metrics on unix:${metrics}:/metrics`);
    } finally {
      await t.ops.close();
      await t.daemon.stop();
    }
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(metrics)).toBe(false);
  });

  it('refuses a non-loopback Metrics_Listen without "public", and says so', async () => {
    const t = await setup(`  Control_Socket = none`);
    await t.ops.close();
    await t.daemon.stop();
    expect(t.ops.controlSocket).toBeUndefined();
    // The parser refuses it in a config; a config object that has it anyway is refused here too.
    const memory = new MemoryLog();
    const log = memory.logger();
    const ops = await startOperations({
      daemon: t.daemon,
      actions: new FakeActions(),
      log,
      config: {
        options: { useSyslog: false, controlSocket: 'none', metricsListen: '192.0.2.2:9742' },
        doors: [],
      },
      version: '1',
    });
    await ops.close();
    expect(memory.messages.join('\n')).toMatch(
      /Metrics_Listen = 192\.0\.2\.2:9742 is not a loopback address: metrics not served/,
    );
  });

  it('reads Metrics_Listen values', () => {
    expect(parseListen('127.0.0.1:9742')).toEqual({ host: '127.0.0.1', port: 9742, public: false });
    expect(parseListen('[::1]:9742')).toEqual({ host: '::1', port: 9742, public: false });
    expect(parseListen('192.0.2.2:80 public')).toEqual({
      host: '192.0.2.2',
      port: 80,
      public: true,
    });
    expect(parseListen('/run/m.sock')).toEqual({ path: '/run/m.sock' });
    expect(isLoopback('127.0.0.53')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('192.0.2.2')).toBe(false);
  });
});
