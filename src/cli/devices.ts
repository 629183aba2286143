/**
 * `dameso devices`: list serial ports through the native binding (`@serialport/bindings-cpp`, an
 * optional dependency). A board without it, or without ports, gets a plain message.
 */
import type { Command } from 'commander';
import { listSerialPorts } from '../../devices/sensors/index.js';

async function devicesCmd(flags: { json?: boolean }): Promise<void> {
  const ports = await listSerialPorts();
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ports })}\n`);
    return;
  }
  if (ports.length === 0) {
    process.stdout.write('no serial ports found (is the GPS or sensor plugged in? try `ls /dev/tty*`)\n');
    return;
  }
  for (const p of ports) {
    const ids = p.vendorId ? ` ${p.vendorId}:${p.productId ?? '?'}` : '';
    process.stdout.write(`${p.path}${p.manufacturer ? `  ${p.manufacturer}` : ''}${ids}\n`);
  }
}

export function registerDevices(program: Command): void {
  program
    .command('devices')
    .description(
      'List serial ports (USB GPS receivers, microcontroller sensors) through the native serial ' +
        'binding. Hand a port to a driver: NMEA GPS (4800 baud), line-protocol sensor (115200 baud).',
    )
    .option('--json', 'print {ports:[{path, manufacturer, vendorId, productId, …}]}')
    .action(devicesCmd);
}
