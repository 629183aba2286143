/**
 * Mock serial ports for sensor driver tests: `@serialport/binding-mock` is the one mock dameso
 * uses (no real serial device can run in CI). `feed` resolves once the port has delivered every
 * byte written, so tests wait on events, not sleeps.
 */
import { MockBinding } from '@serialport/binding-mock';
import type { SerialPortStream } from '@serialport/stream';
import { closeSerialPort, openSerialPort } from '../../devices/sensors/index.js';

let nextPort = 0;

export interface MockPort {
  port: SerialPortStream;
  /** Emit bytes from the "device"; resolves when the stream has delivered them. */
  feed(data: Buffer | string): Promise<void>;
  close(): Promise<void>;
}

export async function openMockPort(baudRate = 4800): Promise<MockPort> {
  const path = `/dev/ttyMOCK${nextPort++}`;
  MockBinding.createPort(path, { echo: false, record: false });
  const port = await openSerialPort({ path, baudRate, binding: MockBinding });
  let delivered = 0;
  let waiters: { target: number; resolve: () => void }[] = [];
  port.on('data', (chunk: Buffer) => {
    delivered += chunk.length;
    const due = waiters.filter((w) => delivered >= w.target);
    waiters = waiters.filter((w) => delivered < w.target);
    for (const w of due) w.resolve();
  });
  let written = 0;
  const binding = port.port as unknown as { emitData(data: Buffer): void };
  return {
    port,
    feed(data) {
      const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
      written += buf.length;
      const target = written;
      const done = new Promise<void>((resolve) => {
        if (delivered >= target) resolve();
        else waiters.push({ target, resolve });
      });
      binding.emitData(buf);
      return done;
    },
    close: () => closeSerialPort(port),
  };
}
