/**
 * What the user reads when packet capture fails: libpcap's and cap's errors mapped to a
 * KnockError with an exit code and a hint. Pure (text in, error out): cap-module.ts and
 * cap-source.ts throw these, and their tests need neither root nor the native module.
 */
import { ExitCode, KnockError, errorText } from '@knock/shared';
import { linkTypeName } from './decode.js';

/**
 * The pcap error of a failed open (or of a filter libpcap rejected), mapped to the error
 * the user reads. `available`: the interfaces to list when `name` does not exist.
 */
export function openError(
  name: string,
  error: unknown,
  available: readonly string[] | undefined,
): KnockError {
  const message = errorText(error);
  const list = available?.length ? ` (available: ${available.join(', ')})` : '';
  if (/PCAP_ERROR_NO_SUCH_DEVICE|No such device/i.test(message))
    return new KnockError('capture.noInterface', `no such interface "${name}"${list}`, {
      exitCode: ExitCode.capture,
      hint: 'name an existing interface with -i or Interface = …, or leave both out to use the one carrying the default route',
    });
  if (/PCAP_ERROR_IFACE_NOT_UP|not up|went down/i.test(message))
    return new KnockError('capture.interfaceDown', `interface "${name}" is down`, {
      exitCode: ExitCode.capture,
      hint: `bring it up (ip link set ${name} up) or capture on another interface with -i`,
    });
  if (/PCAP_ERROR_PERM_DENIED|Operation not permitted|permission denied/i.test(message))
    return new KnockError(
      'capture.permission',
      `no permission to capture on "${name}": ${stripCode(message)}`,
      {
        exitCode: ExitCode.permission,
        // Never suggest setcap on node: every Node script on the host would get raw sockets.
        hint: 'run knock-server as root, or as the systemd service (knock-server install-service), whose unit gives CAP_NET_RAW and CAP_NET_ADMIN to knock-server alone (AmbientCapabilities)',
      },
    );
  if (/parse filter|syntax error|filter expression|illegal|unknown host|bogus/i.test(message))
    return new KnockError('capture.badFilter', `libpcap rejected the capture filter: ${message}`, {
      exitCode: ExitCode.capture,
      hint: "check the doors' Target addresses; if they are fine, this is a bug in knock: please report it",
    });
  return new KnockError('capture.failed', `cannot capture on "${name}": ${stripCode(message)}`, {
    exitCode: ExitCode.capture,
  });
}

const stripCode = (message: string): string => message.replace(/ \(PCAP_ERROR[A-Z_]*\)$/, '');

/** openCapture was given an empty interface list. */
export const noInterfaceGiven = (): KnockError =>
  new KnockError('capture.noInterface', 'no capture interface given', {
    exitCode: ExitCode.capture,
    hint: 'name one with -i or Interface = …',
  });

/** The interface opened, but its link type is one decode.ts does not know. */
export const unsupportedLinkType = (name: string, linkType: number): KnockError =>
  new KnockError(
    'capture.linkType',
    `interface "${name}" has link type ${linkTypeName(linkType)}, which knock-server cannot decode`,
    {
      exitCode: ExitCode.capture,
      hint: 'capture on an Ethernet, raw IP or loopback interface, or on `any`',
    },
  );

/** A running capture died (cap's 'error' event: the interface was deleted or went down). */
export const captureLost = (name: string, error: Error): KnockError =>
  new KnockError('capture.lost', `capture on "${name}" stopped: ${error.message}`, {
    exitCode: ExitCode.capture,
    hint: 'knock-server retries until the interface is back',
    cause: error,
  });

/** `import('cap')` failed: not installed, or its native part is not built. */
export const capMissing = (error: unknown): KnockError =>
  new KnockError(
    'capture.capMissing',
    `cannot load the packet capture module "cap": ${errorText(error)}`,
    {
      exitCode: ExitCode.capture,
      hint: 'install libpcap-dev, then run `npm ci` (or `npx patch-package && npm rebuild cap`) in the project root',
      cause: error,
    },
  );

/**
 * cap is not knock's patched build of the current version: `version` is the
 * `knockPatch` it reports (undefined: stock cap).
 */
export function capUnpatched(version: number | undefined): KnockError {
  if (version !== undefined && version >= 1 && version < 2)
    return new KnockError(
      'capture.capUnpatched',
      `the "cap" module is built with an older version (${version}) of knock's patch, without batch delivery: rebuild it`,
      {
        exitCode: ExitCode.capture,
        hint: 'run `rm -rf node_modules/cap/build && npm rebuild cap` in the project root (npm ci does it through postinstall)',
      },
    );
  return new KnockError(
    'capture.capUnpatched',
    'the "cap" module is the stock build, without knock\'s patch: it captures 65,535 bytes per packet, so its ring holds ~160 packets and knocks get dropped under load',
    {
      exitCode: ExitCode.capture,
      hint: 'run `npx patch-package && npm rebuild cap` in the project root (npm ci does it through postinstall)',
    },
  );
}
