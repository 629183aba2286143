/**
 * The common sensor driver contract (a driver is handed its port; the caller
 * opens it). Every driver emits `Reading`s through `onReading` between `start()` and `stop()`.
 */
import type { Readable } from 'node:stream';

/** A position fix from a GPS. Latitude/longitude in decimal degrees (south and west negative). */
export interface FixReading {
  kind: 'fix';
  lat: number;
  lon: number;
  /**
   * NMEA GGA fix quality: 1 GPS, 2 DGPS, 3 PPS, 4 RTK fixed, 5 RTK float, 6 dead reckoning,
   * 7 manual input, 8 simulation. 0 (no fix) is never emitted: it is rejected and counted.
   */
  quality: number;
  /** Sentence type that carried the position. */
  sentence: 'GGA' | 'RMC';
  /** Talker id (`GP`, `GN`, `GB`, `GL`, …). */
  talker: string;
  /** UTC time of the fix from the receiver, ms since the epoch when the date is known (RMC), else ms since UTC midnight. */
  utcMs: number;
  /** True when `utcMs` carries a full date (RMC). */
  dated: boolean;
  /** Altitude above mean sea level, metres (GGA only). */
  altM?: number;
  /** Satellites in use (GGA only). */
  satellites?: number;
  /** Local wall-clock time of receipt (injected clock), ms. */
  t: number;
}

/** A measured value of one metric. */
export interface ValueReading {
  kind: 'value';
  metric: string;
  value: number;
  /** Local wall-clock time of receipt (injected clock), ms. */
  t: number;
}

export type Reading = FixReading | ValueReading;

/** Counters by reason, e.g. `{ lines: 10, gga: 4, bad_checksum: 1, no_fix: 2, ignored: 3 }`. */
export type DriverStats = Record<string, number>;

export interface SensorDriver {
  /** A short name for logs and stats (`nmea`, `line`, `simulated`). */
  readonly name: string;
  /** Attach to the port (or start the timer). Idempotent. */
  start(): void;
  /** Detach; the port stays open (its owner closes it). */
  stop(): Promise<void>;
  /** Subscribe; returns the unsubscribe function. */
  onReading(listener: (reading: Reading) => void): () => void;
  /** Counters by reason (copy). */
  stats(): DriverStats;
}

/** What a serial driver is handed: any readable byte stream (a `SerialPortStream`, a mock, a file). */
export type SerialPortLike = Readable;

/** One serial port as a binding lists it (subset of `@serialport/bindings-interface` `PortInfo`). */
export interface PortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  pnpId?: string;
  locationId?: string;
  productId?: string;
  vendorId?: string;
}
