import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockBinding } from '@serialport/binding-mock';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import {
  listSerialPorts,
  listSysfsPorts,
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

  it('a failing list with no fallback is a typed error with the fix', async () => {
    const broken = { list: () => Promise.reject(new Error('spawn udevadm ENOENT')) };
    const err = await listSerialPorts(broken, { fallback: undefined }).catch((e) => e);
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

describe('serial ports from the kernel when the binding cannot list them (no udevadm)', () => {
  /** A /sys/class/tty and /dev/serial/by-id as the kernel and udev lay them out for a USB GPS. */
  async function fakeSysfs(root: string): Promise<{ sys: string; byId: string }> {
    const sys = join(root, 'class/tty');
    const usbDevice = join(root, 'devices/usb1/1-1');
    const iface = join(usbDevice, '1-1:1.0');
    await mkdir(iface, { recursive: true });
    await writeFile(join(usbDevice, 'idVendor'), '1546\n');
    await writeFile(join(usbDevice, 'idProduct'), '01a8\n');
    await writeFile(join(usbDevice, 'manufacturer'), 'u-blox AG\n');
    for (const name of ['ttyACM0', 'tty1', 'ttyS9']) await mkdir(join(sys, name), { recursive: true });
    await symlink(iface, join(sys, 'ttyACM0/device')); // USB CDC-ACM: hardware
    // tty1 (a virtual console) and ttyS9 (no UART behind it) have no device link.
    const byId = join(root, 'serial/by-id');
    await mkdir(byId, { recursive: true });
    await symlink('../../ttyACM0', join(byId, 'usb-u-blox_AG_GNSS_receiver-if00'));
    return { sys, byId };
  }

  it('lists ports with hardware behind them, their USB ids and stable name, through the fallback', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dameso-sysfs-'));
    try {
      const { sys, byId } = await fakeSysfs(root);
      const fromSysfs = () => listSysfsPorts({ sysClassTty: sys, byIdDir: byId, devDir: '/dev' });
      const broken = { list: () => Promise.reject(new Error('spawn udevadm ENOENT')) };
      const ports = await listSerialPorts(broken, { fallback: fromSysfs });
      expect(ports).toEqual([
        {
          path: '/dev/ttyACM0',
          vendorId: '1546',
          productId: '01a8',
          manufacturer: 'u-blox AG',
          pnpId: join(byId, 'usb-u-blox_AG_GNSS_receiver-if00'),
        },
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
