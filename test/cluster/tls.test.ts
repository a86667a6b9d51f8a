/**
 * rediss:// against a private redis-server with TLS (a CA and a certificate made here with
 * openssl): `knock-server cluster status` reaches it when the CA is trusted
 * (NODE_EXTRA_CA_CERTS), and says what to do when it is not.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '@knock/shared';
import { waitFor } from '../helpers/netns.js';
import { SERVER_BIN, buildServer } from '../server/daemon-helpers.js';
import { REDIS_SERVER } from './cluster-lab.js';

const skip = existsSync(REDIS_SERVER)
  ? undefined
  : 'needs redis-server (scripts/setup.sh installs it)';

describe.skipIf(skip !== undefined)(`rediss:// (TLS)${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dir: string;
  let redis: ChildProcess | undefined;
  let conf: string;
  const port = 20000 + (process.pid % 20000);

  const status = (env: NodeJS.ProcessEnv = {}) => {
    try {
      const stdout = execFileSync(process.execPath, [SERVER_BIN, 'cluster', 'status', '-c', conf], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 20_000,
      }).toString();
      return { code: 0, stdout, stderr: '' };
    } catch (error) {
      const e = error as { status: number; stdout: Buffer; stderr: Buffer };
      return { code: e.status, stdout: e.stdout.toString(), stderr: e.stderr.toString() };
    }
  };

  beforeAll(async () => {
    await buildServer();
    dir = mkdtempSync(join(tmpdir(), 'knock-tls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=knock test CA',
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    );
    writeFileSync(join(dir, 'ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    ssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'ext',
    );
    const socket = join(dir, 'redis.sock');
    redis = spawn(
      REDIS_SERVER,
      [
        '--port',
        '0',
        '--bind',
        '127.0.0.1',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        'server.pem',
        '--tls-key-file',
        'server.key',
        '--tls-ca-cert-file',
        'ca.pem',
        '--tls-auth-clients',
        'no',
        '--unixsocket',
        socket,
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { cwd: dir, stdio: 'ignore' },
    );
    const up = await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const s = createConnection({ path: socket });
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        }),
      10_000,
    );
    if (!up) throw new Error('redis-server with TLS did not start');
    conf = join(dir, 'knockd.conf');
    writeFileSync(
      conf,
      `[options]\n  Cluster = rediss://localhost:${port}/0\n  Cluster_Name = tls\n`,
    );
  }, 60_000);

  afterAll(() => {
    redis?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reaches the store when its CA is trusted', () => {
    const r = status({ NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`store:\\s+rediss://localhost:${port}/0 \\(Redis 7[.\\d]*\\), reachable`),
    );
  });

  it('an untrusted certificate: exit 15, TLS named, and how to trust a private CA', () => {
    const r = status();
    expect(r.code).toBe(ExitCode.cluster);
    expect(r.stderr).toContain(
      `cannot reach the cluster store at rediss://localhost:${port}/0: TLS:`,
    );
    expect(r.stderr).toContain('NODE_EXTRA_CA_CERTS');
  });
});
