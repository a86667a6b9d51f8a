import { ExitCode, KnockError } from '@knock/shared';
import { describe, expect, it } from 'vitest';
import {
  capMissing,
  capUnpatched,
  captureLost,
  noInterfaceGiven,
  openError,
  unsupportedLinkType,
} from '../../src/capture/capture-errors.js';

describe('openError', () => {
  const available = ['lo', 'eth0', 'any'];

  it('names a missing interface and lists the ones that exist', () => {
    expect(
      openError('eth9', 'No such device exists (PCAP_ERROR_NO_SUCH_DEVICE)', available),
    ).toMatchObject({
      code: 'capture.noInterface',
      exitCode: ExitCode.capture,
      message: 'no such interface "eth9" (available: lo, eth0, any)',
    });
  });

  it('says an interface is down and how to bring it up', () => {
    expect(
      openError('eth0', 'eth0: That device is not up (PCAP_ERROR_IFACE_NOT_UP)', available),
    ).toMatchObject({
      code: 'capture.interfaceDown',
      message: 'interface "eth0" is down',
      hint: expect.stringContaining('ip link set eth0 up'),
    });
  });

  it('turns a permission error into the permission exit code with a root/CAP_NET_RAW hint', () => {
    expect(
      openError('eth0', 'socket: Operation not permitted (PCAP_ERROR_PERM_DENIED)', available),
    ).toMatchObject({
      code: 'capture.permission',
      exitCode: ExitCode.permission,
      message: 'no permission to capture on "eth0": socket: Operation not permitted',
      hint: expect.stringMatching(/root.*CAP_NET_RAW/),
    });
  });

  it('never suggests a capability on the node binary: root or the systemd unit (issue 9 item 5)', () => {
    const { hint } = openError('eth0', 'socket: Operation not permitted', available);
    expect(hint).not.toMatch(/setcap|\bnode\b/);
    expect(hint).toContain('install-service');
    expect(hint).toContain('AmbientCapabilities');
  });

  it('keeps other libpcap errors, labelled', () => {
    expect(openError('eth0', 'something odd', available)).toMatchObject({
      code: 'capture.failed',
      message: 'cannot capture on "eth0": something odd',
    });
  });
});

describe('openError (the thrown value)', () => {
  it("reads an Error's message and drops the PCAP_ERROR code", () => {
    expect(
      openError('eth0', new Error('eth0: odd (PCAP_ERROR_ACTIVATED)'), undefined),
    ).toMatchObject({ code: 'capture.failed', message: 'cannot capture on "eth0": eth0: odd' });
  });

  it('lists nothing when the interfaces are unknown', () => {
    expect(openError('eth9', 'No such device exists', undefined).message).toBe(
      'no such interface "eth9"',
    );
  });

  it('says a filter libpcap rejected is a filter error', () => {
    expect(openError('', new Error('syntax error in filter expression'), undefined)).toMatchObject({
      code: 'capture.badFilter',
      exitCode: ExitCode.capture,
      message: 'libpcap rejected the capture filter: syntax error in filter expression',
      hint: expect.stringContaining('Target addresses'),
    });
  });

  it('says an interface that went down while open is down', () => {
    expect(openError('eth1', 'eth1: interface went down', undefined)).toMatchObject({
      code: 'capture.interfaceDown',
      message: 'interface "eth1" is down',
    });
  });
});

describe('the other capture errors', () => {
  it('asks for an interface when none is given', () => {
    expect(noInterfaceGiven()).toMatchObject({
      code: 'capture.noInterface',
      exitCode: ExitCode.capture,
      message: 'no capture interface given',
      hint: 'name one with -i or Interface = …',
    });
  });

  it('names the interface and the link type knock-server cannot decode', () => {
    expect(unsupportedLinkType('wlan0mon', 127)).toMatchObject({
      code: 'capture.linkType',
      message: 'interface "wlan0mon" has link type DLT 127, which knock-server cannot decode',
      hint: expect.stringContaining('`any`'),
    });
  });

  it('reports a lost capture with its cause and says knock-server retries', () => {
    const cause = new Error('The interface went down');
    const error = captureLost('eth0', cause);
    expect(error).toMatchObject({
      code: 'capture.lost',
      exitCode: ExitCode.capture,
      message: 'capture on "eth0" stopped: The interface went down',
      hint: expect.stringContaining('retries'),
    });
    expect(error.cause).toBe(cause);
  });

  it('says how to install cap when it cannot be loaded', () => {
    const cause = new Error("Cannot find module 'cap'");
    const error = capMissing(cause);
    expect(error).toBeInstanceOf(KnockError);
    expect(error).toMatchObject({
      code: 'capture.capMissing',
      exitCode: ExitCode.capture,
      message: `cannot load the packet capture module "cap": Cannot find module 'cap'`,
      hint: expect.stringContaining('libpcap-dev'),
    });
    expect(error.cause).toBe(cause);
  });

  it('tells a stock cap from an older patch', () => {
    expect(capUnpatched(undefined).message).toContain('stock build');
    expect(capUnpatched(3).message).toContain('stock build');
    expect(capUnpatched(1)).toMatchObject({
      code: 'capture.capUnpatched',
      message: expect.stringContaining('older version (1)'),
      hint: expect.stringContaining('rm -rf node_modules/cap/build'),
    });
  });
});
