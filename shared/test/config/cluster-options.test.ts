import { describe, expect, it } from 'vitest';
import { extensionsUsed, parseClusterUrl, parseConfig, serializeConfig } from '@knock/shared';

const options = (lines: string) => `[options]\n${lines}\n[ssh]\nsequence = 1228,1227\n`;
const issues = (text: string) =>
  parseConfig(text, 'k.conf').issues.map((i) => ({
    severity: i.severity,
    code: i.code,
    line: i.line,
  }));

describe('parseClusterUrl', () => {
  it('reads redis://, rediss:// and unix:// with their defaults', () => {
    expect(parseClusterUrl('redis://10.0.0.5')).toEqual({
      endpoint: { kind: 'tcp', tls: false, host: '10.0.0.5', port: 6379, db: 0 },
    });
    expect(parseClusterUrl('rediss://knock@redis.example.org:6380/2')).toEqual({
      endpoint: {
        kind: 'tcp',
        tls: true,
        host: 'redis.example.org',
        port: 6380,
        db: 2,
        username: 'knock',
      },
    });
    expect(parseClusterUrl('redis://[2001:db8::5]:7000/1')).toMatchObject({
      endpoint: { host: '2001:db8::5', port: 7000, db: 1 },
    });
    expect(parseClusterUrl('unix:///run/redis/redis.sock?db=3')).toEqual({
      endpoint: { kind: 'unix', path: '/run/redis/redis.sock', db: 3 },
    });
  });

  it.each([
    ['10.0.0.5:6379', /expected redis:/],
    ['http://10.0.0.5', /unknown scheme http/],
    ['redis://10.0.0.5:70000', /outside 1-65535/],
    ['redis://:secret@10.0.0.5', /Cluster_Password_File/],
    ['redis://10.0.0.5/x', /expected redis:\/\/HOST/],
    ['unix://relative.sock', /absolute/],
  ])('refuses %s and says why', (url, problem) => {
    expect(parseClusterUrl(url).problem).toMatch(problem);
  });
});

describe('parseConfig: cluster directives', () => {
  it('accepts every directive, case-insensitively, as an extension', () => {
    const parsed = parseConfig(
      options(
        [
          'cluster = redis://192.0.2.5:6379/0',
          'CLUSTER_PASSWORD_FILE = /etc/knock/redis.password',
          'Cluster_Name = bastions',
          'Cluster_Node = bastion-a',
          'Cluster_Fail = OPEN',
        ].join('\n'),
      ),
    );
    expect(parsed.issues).toEqual([]);
    expect(parsed.config.options).toMatchObject({
      cluster: 'redis://192.0.2.5:6379/0',
      clusterPasswordFile: '/etc/knock/redis.password',
      clusterName: 'bastions',
      clusterNode: 'bastion-a',
      clusterFail: 'open',
    });
    expect(extensionsUsed(parsed.config)).toEqual(
      expect.arrayContaining(['Cluster', 'Cluster_Name', 'Cluster_Fail']),
    );
  });

  it('names the line of each bad value, with a hint', () => {
    const text = options(
      [
        'Cluster = redis://:pw@192.0.2.5',
        'Cluster_Password_File = redis.password',
        'Cluster_Name = no spaces',
        'Cluster_Node =',
        'Cluster_Fail = maybe',
      ].join('\n'),
    );
    expect(issues(text)).toEqual([
      { severity: 'error', code: 'config.cluster.cluster', line: 2 },
      { severity: 'error', code: 'config.cluster.cluster_password_file', line: 3 },
      { severity: 'error', code: 'config.cluster.cluster_name', line: 4 },
      { severity: 'error', code: 'config.cluster.cluster_node', line: 5 },
      { severity: 'error', code: 'config.cluster.cluster_fail', line: 6 },
    ]);
    expect(parseConfig(text).issues.every((i) => i.hint !== undefined)).toBe(true);
  });

  it('warns when cluster settings come without Cluster', () => {
    expect(issues(options('Cluster_Name = lab\nCluster_Fail = open'))).toEqual([
      { severity: 'warning', code: 'config.cluster.noCluster', line: 2 },
      { severity: 'warning', code: 'config.cluster.noCluster', line: 3 },
    ]);
  });

  it('belongs in [options], not in a door', () => {
    expect(issues('[ssh]\nsequence = 1\ncluster = redis://192.0.2.5\n')[0]).toMatchObject({
      severity: 'error',
      line: 3,
    });
  });

  it('writes the directives back (parse → serialize → parse)', () => {
    const parsed = parseConfig(options('Cluster = unix:///run/r.sock\nCluster_Fail = closed'));
    const again = parseConfig(serializeConfig(parsed.config));
    expect(again.issues).toEqual([]);
    expect(again.config.options).toEqual(parsed.config.options);
  });
});
