/**
 * Serial ports read from the kernel's own listing, for boards where the native binding cannot
 * list them (`@serialport/bindings-cpp` lists through `udevadm`, absent on minimal images, or the
 * binding itself is missing): every `/sys/class/tty/<name>` with a `device` link is a real port
 * (virtual consoles and pseudo-terminals have none), with the USB vendor, product and maker read
 * from the USB device above it, and the stable `/dev/serial/by-id` names when udev made them.
 */
import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { PortInfo } from './types.js';

export interface SysfsPortsOptions {
  /** Default `/sys/class/tty`. */
  sysClassTty?: string;
  /** Default `/dev/serial/by-id`. */
  byIdDir?: string;
  /** Folder of the device nodes. Default `/dev`. */
  devDir?: string;
}

/** Real serial hardware: USB CDC-ACM and USB-serial adapters, SoC UARTs (Pi), 8250/16550 UARTs. */
const SERIAL_NAME = /^tty(USB|ACM|AMA|S|XRUSB|MFD|SC)\d+$/;

const readText = (file: string): Promise<string | undefined> =>
  readFile(file, 'utf8').then(
    (t) => t.trim() || undefined,
    () => undefined,
  );

/** The USB device's attributes: the tty's device is a USB interface, its parent the device. */
async function usbAttributes(deviceDir: string): Promise<Omit<PortInfo, 'path'>> {
  const up = join(deviceDir, '..');
  const [vendorId, productId, manufacturer, serialNumber] = await Promise.all(
    ['idVendor', 'idProduct', 'manufacturer', 'serial'].map((a) => readText(join(up, a))),
  );
  const info: Omit<PortInfo, 'path'> = {};
  if (vendorId) info.vendorId = vendorId;
  if (productId) info.productId = productId;
  if (manufacturer) info.manufacturer = manufacturer;
  if (serialNumber) info.serialNumber = serialNumber;
  return info;
}

/** `/dev/ttyACM0` → `/dev/serial/by-id/usb-u-blox…-if00`, when udev made such links. */
async function byIdNames(byIdDir: string): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const links = await readdir(byIdDir).catch(() => [] as string[]);
  for (const link of links) {
    const target = await readlink(join(byIdDir, link)).catch(() => undefined);
    if (target !== undefined) names.set(basename(resolve(byIdDir, target)), join(byIdDir, link));
  }
  return names;
}

export async function listSysfsPorts(options: SysfsPortsOptions = {}): Promise<PortInfo[]> {
  const sys = options.sysClassTty ?? '/sys/class/tty';
  const dev = options.devDir ?? '/dev';
  const byId = await byIdNames(options.byIdDir ?? '/dev/serial/by-id');
  const ports: PortInfo[] = [];
  for (const name of (await readdir(sys).catch(() => [] as string[])).sort()) {
    if (!SERIAL_NAME.test(name)) continue;
    const deviceDir = await realpath(join(sys, name, 'device')).catch(() => undefined);
    if (deviceDir === undefined) continue; // no hardware behind it
    const info: PortInfo = { path: join(dev, name), ...(await usbAttributes(deviceDir)) };
    const stable = byId.get(name);
    if (stable !== undefined) info.pnpId = stable;
    ports.push(info);
  }
  return ports;
}
