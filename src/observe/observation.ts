/**
 * The `observation` entry: one reading joined with the position it was taken at.
 * `{event:'observation', lat, lon, cell, metric, value, fix}`; `cell` is the geohash of (lat, lon)
 * at the configured precision (default `DEFAULT_CELL_PRECISION` = 7, ≈153 m × 153 m), `fix` the
 * NMEA GGA fix quality of the position (1 GPS, 2 DGPS, 4 RTK, 7 manual, 8 simulated).
 */
import ngeohash from 'ngeohash';
import type { Entry, EntryInput } from '../series/types.js';
import { BadCellError, BadPrecisionError } from './errors.js';

export const OBSERVATION_EVENT = 'observation';
export const CONSENSUS_EVENT = 'consensus';

export interface ObservationFields {
  lat: number;
  lon: number;
  cell: string;
  metric: string;
  value: number;
  fix: number;
  /** Driver that produced the reading (`nmea`+`line`, `simulated`…), optional. */
  sensor?: string;
}

export type ObservationEntry = Entry & ObservationFields & { event: 'observation' };

const GEOHASH = /^[0-9b-hjkmnp-z]{1,12}$/;

export function isCell(s: string): boolean {
  return GEOHASH.test(s);
}

export function assertCell(s: string): string {
  if (!isCell(s)) throw new BadCellError(s);
  return s;
}

export function checkPrecision(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 12) throw new BadPrecisionError(p);
  return p;
}

/** Geohash of a position at `precision` characters. */
export function cellOf(lat: number, lon: number, precision: number): string {
  return ngeohash.encode(lat, lon, precision);
}

/** Bounding box of a cell: [minLat, minLon, maxLat, maxLon]. */
export function cellBox(cell: string): [number, number, number, number] {
  const [a, b, c, d] = ngeohash.decode_bbox(cell);
  return [a as number, b as number, c as number, d as number];
}

/** Centre of a cell. */
export function cellCentre(cell: string): { lat: number; lon: number } {
  const { latitude, longitude } = ngeohash.decode(cell);
  return { lat: latitude, lon: longitude };
}

export function observationInput(
  o: Omit<ObservationFields, 'cell'> & { cell?: string },
  precision: number,
): EntryInput & ObservationFields {
  return { event: OBSERVATION_EVENT, ...o, cell: o.cell ?? cellOf(o.lat, o.lon, precision) };
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Narrow an entry to an observation (entries read back from disk are checked, not trusted). */
export function asObservation(e: Entry): ObservationEntry | undefined {
  if (e.event !== OBSERVATION_EVENT) return undefined;
  if (!finite(e.lat) || !finite(e.lon) || !finite(e.value) || !finite(e.fix)) return undefined;
  if (typeof e.cell !== 'string' || typeof e.metric !== 'string') return undefined;
  return e as ObservationEntry;
}
