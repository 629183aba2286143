import { DamesoError, messageOf } from '../../src/errors.js';

/** The native serial binding (`@serialport/bindings-cpp`, an optional dependency) could not be loaded. */
export class SerialBindingMissingError extends DamesoError {
  constructor(cause?: unknown) {
    super(
      'DAMESO_SERIAL_BINDING_MISSING',
      'the native serial binding @serialport/bindings-cpp is not installed or failed to load; ' +
        'install it on the board (`npm install @serialport/bindings-cpp`, needs a prebuilt binary or ' +
        'a C++ toolchain) or use a simulated sensor',
      { cause },
    );
  }
}

/** Listing serial ports failed (e.g. `udevadm` missing on Linux). */
export class SerialListError extends DamesoError {
  constructor(cause: unknown) {
    const why = messageOf(cause);
    super(
      'DAMESO_SERIAL_LIST_FAILED',
      `could not list serial ports (${why}); on Linux the binding needs udevadm (apt-get install udev)`,
      { cause },
    );
  }
}

/** A driver option is out of range. */
export class SensorOptionError extends DamesoError {
  constructor(key: string, message: string) {
    super('DAMESO_BAD_CONFIG', `sensor option "${key}": ${message}`);
  }
}

/** Opening a serial port failed (no such device, permission, busy). */
export class SerialOpenError extends DamesoError {
  constructor(path: string, cause: unknown) {
    const why = messageOf(cause);
    super(
      'DAMESO_SERIAL_OPEN_FAILED',
      `could not open serial port ${path} (${why}); check the path with \`dameso devices\`, ` +
        'and that this user may read it (on Debian/Raspberry Pi OS: add it to the dialout group)',
      { cause },
    );
  }
}
