import { describe, expect, it, vi } from 'vitest';
import { ExitCode, KnockError } from '@knock/shared';
import { resolveTargets, type Lookup } from '@knock/shared/node';

const fakeLookup = (answer: { address: string; family: number }[] | NodeJS.ErrnoException) =>
  vi.fn<Lookup>(async () => {
    if (answer instanceof Error) throw answer;
    return answer;
  });

const errno = (code: string) => Object.assign(new Error(`getaddrinfo ${code}`), { code });

describe('resolveTargets', () => {
  it('returns an IP literal as is, without asking the resolver', async () => {
    const lookup = fakeLookup([]);
    await expect(resolveTargets('192.0.2.2', 'any', lookup)).resolves.toEqual(['192.0.2.2']);
    await expect(resolveTargets('2001:db8::2', 'ipv6', lookup)).resolves.toEqual(['2001:db8::2']);
    expect(lookup).not.toHaveBeenCalled();
  });

  it('refuses a literal of the other family, naming both', async () => {
    const error = await resolveTargets('2001:db8::2', 'ipv4').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KnockError);
    expect((error as KnockError).exitCode).toBe(ExitCode.resolve);
    expect((error as KnockError).message).toBe(
      '2001:db8::2 is an IPv6 address, but IPv4 was asked for',
    );
    await expect(resolveTargets('192.0.2.2', 'ipv6')).rejects.toThrow(/IPv4 address, but IPv6/);
  });

  it('asks for every address with any, and for one family with -4/-6', async () => {
    const lookup = fakeLookup([{ address: '192.0.2.2', family: 4 }]);
    await resolveTargets('h.test', 'any', lookup);
    await resolveTargets('h.test', 'ipv4', lookup);
    await resolveTargets('h.test', 'ipv6', lookup);
    expect(lookup.mock.calls.map((c) => c[1].family)).toEqual([0, 4, 6]);
    expect(lookup.mock.calls.every((c) => c[1].all)).toBe(true);
  });

  it('keeps the resolver order and drops duplicates', async () => {
    const lookup = fakeLookup([
      { address: '2001:db8::2', family: 6 },
      { address: '192.0.2.2', family: 4 },
      { address: '2001:db8::2', family: 6 },
    ]);
    await expect(resolveTargets('h.test', 'any', lookup)).resolves.toEqual([
      '2001:db8::2',
      '192.0.2.2',
    ]);
  });

  it.each([
    ['ENOTFOUND', 'any', 'cannot resolve host "nx.test": no such name'],
    ['ENOTFOUND', 'ipv6', 'cannot resolve host "nx.test": no IPv6 address'],
    ['EAI_AGAIN', 'any', 'cannot resolve host "nx.test": the name server did not answer'],
  ] as const)('%s (%s) is ExitCode.resolve naming the host', async (code, family, message) => {
    const error = await resolveTargets('nx.test', family, fakeLookup(errno(code))).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KnockError);
    expect((error as KnockError).exitCode).toBe(ExitCode.resolve);
    expect((error as KnockError).message).toContain(message);
  });

  it('refuses an empty name or one with blanks before resolving', async () => {
    const lookup = fakeLookup([]);
    await expect(resolveTargets('', 'any', lookup)).rejects.toThrow(/not a host name/);
    await expect(resolveTargets('a b', 'any', lookup)).rejects.toThrow(/not a host name/);
    expect(lookup).not.toHaveBeenCalled();
  });

  it('an empty answer is an error too', async () => {
    await expect(resolveTargets('h.test', 'any', fakeLookup([]))).rejects.toThrow(/no address/);
  });

  it('resolves localhost with the real resolver', async () => {
    const addresses = await resolveTargets('localhost', 'ipv4');
    expect(addresses).toContain('127.0.0.1');
  });
});
