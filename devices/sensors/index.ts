/**
 * Sensor drivers. Each is handed its I/O: serial drivers receive an open
 * readable port (a `SerialPortStream` with the native binding on boards, the mock binding in
 * tests); the simulated sensor receives a field, a position and the clock.
 */
export * from './constants.js';
export { SensorOptionError, SerialBindingMissingError, SerialListError, SerialOpenError } from './errors.js';
export { type Field, type SmoothFieldOptions, smoothField } from './field.js';
export { createLineSensor, type LineSensorOptions, parseLineProtocol } from './line-protocol.js';
export { type NmeaPosition, type NmeaRejectReason, type NmeaResult, nmeaChecksum, parseNmea } from './nmea.js';
export { createNmeaGps, type NmeaGpsOptions } from './nmea-driver.js';
export { createPrng, type Prng } from './prng.js';
export {
  type BindingInterface,
  closeSerialPort,
  type ListPortsOptions,
  listSerialPorts,
  loadNativeBinding,
  type OpenSerialOptions,
  openSerialPort,
  type PortInfo,
} from './serial.js';
export { createSimulatedSensor, type SimulatedSensor, type SimulatedSensorOptions } from './simulated.js';
export { listSysfsPorts, type SysfsPortsOptions } from './sysfs-ports.js';
export type { DriverStats, FixReading, Reading, SensorDriver, SerialPortLike, ValueReading } from './types.js';
