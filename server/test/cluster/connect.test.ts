import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkClusterFiles,
  defaultNodeName,
  passwordFileProblem,
  readPasswordFile,
} from '../../src/cluster/connect.js';

describe('defaultNodeName', () => {
  it('is the host name, made a valid node name', () => {
    expect(defaultNodeName('bastion-a')).toBe('bastion-a');
    expect(defaultNodeName('my host!')).toBe('my-host-');
    expect(defaultNodeName('--x')).toBe('x');
    expect(defaultNodeName('')).toBe('node');
    expect(defaultNodeName('a'.repeat(80))).toHaveLength(64);
  });
});

describe('the password file', () => {
  it('must be readable by its owner only, owned by root or us', () => {
    expect(passwordFileProblem({ mode: 0o100600, uid: 0 }, 1000)).toBeUndefined();
    expect(passwordFileProblem({ mode: 0o100400, uid: 1000 }, 1000)).toBeUndefined();
    expect(passwordFileProblem({ mode: 0o100640, uid: 0 }, 0)).toMatch(/mode is 0640/);
    expect(passwordFileProblem({ mode: 0o100600, uid: 33 }, 0)).toMatch(/owned by uid 33/);
  });

  it('holds one line; check reports an unsafe or missing one with the config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'knock-pw-'));
    const file = join(dir, 'pw');
    writeFileSync(file, 's3cret\n');
    chmodSync(file, 0o600);
    expect(await readPasswordFile(file)).toBe('s3cret');
    expect(
      await checkClusterFiles({ cluster: 'redis://h', clusterPasswordFile: file }, 'k.conf'),
    ).toEqual([]);
    chmodSync(file, 0o644);
    const [issue] = await checkClusterFiles(
      { cluster: 'redis://h', clusterPasswordFile: file },
      'k.conf',
    );
    expect(issue).toMatchObject({
      severity: 'error',
      code: 'config.cluster.passwordFile',
      file: 'k.conf',
    });
    expect(issue?.hint).toBe(`chown root: ${file} && chmod 600 ${file}`);
    const [missing] = await checkClusterFiles(
      { cluster: 'redis://h', clusterPasswordFile: join(dir, 'nope') },
      'k.conf',
    );
    expect(missing?.message).toMatch(/cannot read Cluster_Password_File .*ENOENT/);
    writeFileSync(file, 'two\nlines\n');
    chmodSync(file, 0o600);
    await expect(readPasswordFile(file)).rejects.toThrow(/one line/);
  });
});
