/**
 * The shell around the real serial binding. `@serialport/bindings-cpp` is an optional native
 * dependency: it is imported dynamically so that a node without it (CI, a laptop, a fleet of
 * simulated sensors) still runs, and its absence is a typed error with the fix.
 */
import { SerialPortStream } from '@serialport/stream';
import { SerialBindingMissingError, SerialListError, SerialOpenError } from './errors.js';
import { listSysfsPorts } from './sysfs-ports.js';
import type { PortInfo } from './types.js';

export type { PortInfo } from './types.js';

/**
 * A serialport binding (`autoDetect()` of `@serialport/bindings-cpp`, or `MockBinding`). Typed by
 * what we use: `@serialport/bindings-interface` ships no types NodeNext resolution can find.
 */
export interface BindingInterface {
  list(): Promise<PortInfo[]>;
}
type StreamBinding = ConstructorParameters<typeof SerialPortStream>[0]['binding'];

/** Load the platform's native binding, or throw `SerialBindingMissingError`. */
export async function loadNativeBinding(): Promise<BindingInterface> {
  try {
    const mod = (await import('@serialport/bindings-cpp')) as { autoDetect(): BindingInterface };
    return mod.autoDetect();
  } catch (err) {
    throw new SerialBindingMissingError(err);
  }
}

export interface ListPortsOptions {
  /**
   * Where to list from when the binding cannot (no binding, or its lister failed: on Linux it runs
   * `udevadm`, missing on minimal images). Default: the kernel's own listing on Linux
   * (`listSysfsPorts`), none elsewhere.
   */
  fallback?: (() => Promise<PortInfo[]>) | undefined;
}

/**
 * List serial ports through a binding (the native one by default); when the binding is missing or
 * its lister fails, from the fallback. Throws the binding's error only when there is no fallback.
 */
export async function listSerialPorts(binding?: BindingInterface, options: ListPortsOptions = {}): Promise<PortInfo[]> {
  const fallback = 'fallback' in options ? options.fallback : process.platform === 'linux' ? listSysfsPorts : undefined;
  let b = binding;
  try {
    b ??= await loadNativeBinding();
  } catch (err) {
    if (fallback) return fallback();
    throw err;
  }
  try {
    return await b.list();
  } catch (err) {
    if (fallback) return fallback();
    throw new SerialListError(err);
  }
}

export interface OpenSerialOptions {
  path: string;
  /** bits/s, e.g. `DEFAULT_GPS_BAUD_RATE` (4800) or `DEFAULT_LINE_SENSOR_BAUD_RATE` (115200). */
  baudRate: number;
  /** Default: the native binding. Tests pass `MockBinding`. */
  binding?: BindingInterface;
}

/** Open a port (the caller owns it and closes it; drivers are only handed it). Throws `SerialOpenError`. */
export async function openSerialPort(options: OpenSerialOptions): Promise<SerialPortStream> {
  const binding = options.binding ?? (await loadNativeBinding());
  const port = new SerialPortStream({
    binding: binding as unknown as StreamBinding,
    path: options.path,
    baudRate: options.baudRate,
    autoOpen: false,
  });
  try {
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  } catch (err) {
    throw new SerialOpenError(options.path, err);
  }
  return port;
}

/** Close a port opened with `openSerialPort`. */
export async function closeSerialPort(port: SerialPortStream): Promise<void> {
  if (!port.isOpen) return;
  await new Promise<void>((resolve, reject) => port.close((err) => (err ? reject(err) : resolve())));
}
