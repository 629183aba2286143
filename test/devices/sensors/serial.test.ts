import { MockBinding } from '@serialport/binding-mock';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import {
  listSerialPorts,
  openSerialPort,
  SerialBindingMissingError,
  SerialListError,
  SerialOpenError,
} from '../../../devices/sensors/index.js';
import { registerDevices } from '../../../src/cli/devices.js';
import { EXIT } from '../../../src/cli/exit.js';
import { DamesoError } from '../../../src/errors.js';

describe('serial shell', () => {
  it('lists the ports a binding reports', async () => {
    MockBinding.createPort('/dev/ttyLIST0', { echo: false, record: false, manufacturer: 'u-blox' });
    const ports = await listSerialPorts(MockBinding);
    expect(ports.find((p) => p.path === '/dev/ttyLIST0')?.manufacturer).toBe('u-blox');
  });

  it('a port that does not exist is a typed error naming the path and the fix', async () => {
    const err = await openSerialPort({ path: '/dev/ttyNOPE', baudRate: 4800, binding: MockBinding }).catch((e) => e);
    expect(err).toBeInstanceOf(SerialOpenError);
    expect(err.message).toContain('/dev/ttyNOPE');
    expect(err.message).toContain('dameso devices');
    expect(EXIT.forCode(err.code)).toBe(EXIT.unavailable);
  });

  it('a failing list is a typed error with the fix', async () => {
    const broken = { list: () => Promise.reject(new Error('spawn udevadm ENOENT')) };
    const err = await listSerialPorts(broken).catch((e) => e);
    expect(err).toBeInstanceOf(SerialListError);
    expect(err.message).toContain('udevadm');
  });
});

describe('dameso devices (the native binding on this machine)', () => {
  it('prints the ports, says plainly there are none, or fails with a typed error and exit 69', async () => {
    const program = new Command('dameso').exitOverride();
    registerDevices(program);
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      out += String(c);
      return true;
    });
    let err: unknown;
    try {
      await program.parseAsync(['node', 'dameso', 'devices']);
    } catch (e) {
      err = e;
    } finally {
      spy.mockRestore();
    }
    if (err !== undefined) {
      expect(err).toBeInstanceOf(DamesoError);
      expect(err instanceof SerialBindingMissingError || err instanceof SerialListError).toBe(true);
      expect(EXIT.forCode((err as DamesoError).code)).toBe(EXIT.unavailable);
    } else {
      expect(
        out === 'no serial ports found (is the GPS or sensor plugged in? try `ls /dev/tty*`)\n' ||
          /^\/dev\//m.test(out),
      ).toBe(true);
    }
  });
});
