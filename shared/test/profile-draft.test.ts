import {
  describeSequence,
  draftFromProfile,
  emptyDraft,
  validateDraft,
  type ProfileDraft,
} from '@knock/shared';
import { describe, expect, it } from 'vitest';
import { lab, maths } from './helpers/ui-fakes.js';

const draft = (change: Partial<ProfileDraft>): ProfileDraft => ({
  ...emptyDraft(),
  host: 'ssh.example.org',
  sequence: '7000,8000:udp,9000',
  ...change,
});

describe('draftFromProfile', () => {
  it('writes the sequence in knockd syntax and numbers as text', () => {
    expect(draftFromProfile(maths)).toEqual({
      host: 'ssh.maths.fr',
      sequence: '1228,1227',
      oneTimeSequences: '',
      port: '22',
      family: 'any',
      delayMs: '0',
    });
    expect(draftFromProfile(lab)).toMatchObject({
      sequence: '',
      oneTimeSequences: lab.oneTimeSequences,
    });
  });

  it('round-trips through validateDraft unchanged', () => {
    for (const profile of [maths, lab]) {
      expect(validateDraft(draftFromProfile(profile), [], profile)).toEqual({ ok: true, profile });
    }
  });
});

describe('validateDraft', () => {
  it('builds a profile from a good draft', () => {
    expect(validateDraft(draft({ port: '2222', delayMs: '150', family: 'ipv6' }), [])).toEqual({
      ok: true,
      profile: {
        host: 'ssh.example.org',
        sequence: [
          { port: 7000, protocol: 'tcp' },
          { port: 8000, protocol: 'udp' },
          { port: 9000, protocol: 'tcp' },
        ],
        port: 2222,
        family: 'ipv6',
        delayMs: 150,
      },
    });
  });

  it('reports the sequence error with its column, as parseSequence finds it', () => {
    const result = validateDraft(draft({ sequence: '7000,,9000' }), []);
    expect(result).toEqual({
      ok: false,
      errors: {
        sequence: expect.stringMatching(
          /^column 6: empty element in the sequence .*remove the extra comma/,
        ),
      },
    });
    expect(validateDraft(draft({ sequence: '7000,70000' }), [])).toMatchObject({
      errors: { sequence: expect.stringContaining('port 70000 is out of range') },
    });
  });

  it('needs a host without spaces, unique among the other profiles', () => {
    expect(validateDraft(draft({ host: '  ' }), [])).toMatchObject({
      errors: { host: expect.stringContaining('required') },
    });
    expect(validateDraft(draft({ host: 'a b' }), [])).toMatchObject({
      errors: { host: 'a host name has no spaces' },
    });
    expect(validateDraft(draft({ host: 'SSH.maths.fr' }), [maths])).toMatchObject({
      errors: { host: 'a profile for SSH.maths.fr already exists' },
    });
  });

  it('needs exactly one of a sequence and a one-time file', () => {
    expect(validateDraft(draft({ sequence: '' }), [])).toMatchObject({
      errors: { sequence: expect.stringContaining('required') },
    });
    expect(validateDraft(draft({ oneTimeSequences: '/x.ots' }), [])).toMatchObject({
      errors: { oneTimeSequences: 'give a sequence or a one-time-sequence file, not both' },
    });
    expect(validateDraft(draft({ sequence: '', oneTimeSequences: ' /x.ots ' }), [])).toMatchObject({
      ok: true,
      profile: { oneTimeSequences: '/x.ots' },
    });
  });

  it('takes an empty port as "do not verify", and rejects ports and delays out of range', () => {
    const result = validateDraft(draft({ port: '' }), []);
    expect(result.ok).toBe(true);
    expect(result.ok && 'port' in result.profile).toBe(false);
    expect(validateDraft(draft({ port: '0', delayMs: '-5' }), [])).toEqual({
      ok: false,
      errors: {
        port: 'a port from 1 to 65535 (or a service name such as ssh), or empty to skip the check',
        delayMs: 'milliseconds between knocks, from 0 to 60000',
      },
    });
    expect(validateDraft(draft({ port: '22x' }), [])).toMatchObject({ ok: false });
  });

  it('drops the old sequence when an edited profile switches to a one-time file', () => {
    const result = validateDraft(
      { ...draftFromProfile(maths), sequence: '', oneTimeSequences: '/m.ots' },
      [],
      maths,
    );
    expect(result).toEqual({
      ok: true,
      profile: {
        host: 'ssh.maths.fr',
        oneTimeSequences: '/m.ots',
        port: 22,
        family: 'any',
        delayMs: 0,
      },
    });
  });
});

describe('describeSequence', () => {
  it('shows the sequence, or the one-time file', () => {
    expect(describeSequence(maths)).toBe('1228,1227');
    expect(describeSequence(lab)).toBe(`one-time: ${lab.oneTimeSequences}`);
  });
});

describe('validateDraft: every problem, and service names', () => {
  it('reports every problem of a sequence, one per line, not only the first', () => {
    const result = validateDraft(draft({ sequence: '1228,,70000' }), []);
    expect(result.ok).toBe(false);
    const lines = result.ok ? [] : (result.errors.sequence ?? '').split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^column 6: empty element/),
      expect.stringMatching(/^column 7: port 70000 is out of range/),
    ]);
  });

  it('takes a service name for the verify port, as the CLI does', () => {
    const servicePort = (name: string) => ({ ssh: 22, https: 443 })[name];
    expect(validateDraft(draft({ port: 'ssh' }), [], undefined, { servicePort })).toMatchObject({
      ok: true,
      profile: { port: 22 },
    });
    expect(validateDraft(draft({ port: 'nosuch' }), [], undefined, { servicePort })).toEqual({
      ok: false,
      errors: {
        port: '"nosuch" is not a known service name (not in /etc/services): give a port number',
      },
    });
  });
});
