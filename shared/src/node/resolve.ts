import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ExitCode } from '../exit-codes.js';
import { KnockError } from '../errors.js';

/** Which addresses of a name to knock: `any` is every address it has, IPv4 and IPv6. */
export type AddressFamily = 'any' | 'ipv4' | 'ipv6';

/** The injectable resolver: the shape of `dns.promises.lookup(host, { all: true, family })`. */
export type Lookup = (
  host: string,
  options: { all: true; family: 0 | 4 | 6 },
) => Promise<readonly { address: string; family: number }[]>;

const familyNumber = { any: 0, ipv4: 4, ipv6: 6 } as const;
const familyName = { 4: 'IPv4', 6: 'IPv6' } as const;

/**
 * Resolves `host` once (knockd's client resolves again for every port; a name with
 * several addresses could then be knocked on different ones). Returns the distinct
 * addresses in the resolver's order (glibc sorts by RFC 6724, the order ssh dials in).
 * An IP literal is returned as is, after checking it matches `family`.
 */
export async function resolveTargets(
  host: string,
  family: AddressFamily,
  resolver: Lookup = lookup,
): Promise<string[]> {
  const literal = isIP(host);
  if (literal !== 0) {
    const want = familyNumber[family];
    if (want !== 0 && want !== literal) {
      throw new KnockError(
        'knock.resolve.familyMismatch',
        `${host} is an ${familyName[literal as 4 | 6]} address, but ${familyName[want]} was asked for`,
        {
          exitCode: ExitCode.resolve,
          hint: want === 4 ? 'drop -4 (or the profile family)' : 'drop -6 (or the profile family)',
        },
      );
    }
    return [host];
  }
  if (host === '' || /\s/.test(host)) {
    throw new KnockError('knock.resolve.badName', `"${host}" is not a host name or address`, {
      exitCode: ExitCode.resolve,
    });
  }
  let found: readonly { address: string; family: number }[];
  try {
    found = await resolver(host, { all: true, family: familyNumber[family] });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOTFOUND' || code === 'ENODATA'
        ? family === 'any'
          ? 'no such name'
          : `no ${familyName[familyNumber[family]]} address`
        : code === 'EAI_AGAIN'
          ? 'the name server did not answer (temporary failure)'
          : (code ?? String(error));
    throw new KnockError('knock.resolve.failed', `cannot resolve host "${host}": ${why}`, {
      exitCode: ExitCode.resolve,
      hint:
        family === 'any'
          ? 'check the name, or give an IP address'
          : `check the name, or drop -${familyNumber[family]} to use any address family`,
      cause: error,
    });
  }
  const addresses = [...new Set(found.map((a) => a.address))];
  if (addresses.length === 0) {
    throw new KnockError('knock.resolve.empty', `cannot resolve host "${host}": no address`, {
      exitCode: ExitCode.resolve,
    });
  }
  return addresses;
}
