/**
 * The observer joins the latest position fix with each sensor reading and appends an
 * `observation` entry. A reading with no fix, or a fix older than `maxFixAgeMs` on the local
 * monotonic clock, is counted and dropped (a position from minutes ago is not where it was read).
 */
import type { Reading, SensorDriver } from '../../devices/sensors/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Series } from '../series/types.js';
import { DEFAULT_CELL_PRECISION, DEFAULT_MAX_FIX_AGE_MS } from './constants.js';
import { checkPrecision, observationInput } from './observation.js';

export interface ObserverOptions {
  series: Series;
  clock: Clock;
  log: Logger;
  /** Drivers to listen to (a GPS and sensors, or one simulated sensor giving both). The caller starts them. */
  drivers: readonly SensorDriver[];
  /** Geohash characters of the cell. Default `DEFAULT_CELL_PRECISION` (7). */
  precision?: number;
  /** ms; default `DEFAULT_MAX_FIX_AGE_MS` (5000). */
  maxFixAgeMs?: number;
  /** A fixed position (manual input, fix quality 7) used when no driver reports one. */
  staticPosition?: { lat: number; lon: number };
}

export interface ObserverStats {
  observations: number;
  noFix: number;
  staleFix: number;
  appendFailed: number;
}

export interface Observer {
  start(): void;
  /** Unsubscribes and waits for pending appends. */
  stop(): Promise<void>;
  stats(): ObserverStats;
}

export function createObserver(options: ObserverOptions): Observer {
  const { series, clock, log } = options;
  const precision = checkPrecision(options.precision ?? DEFAULT_CELL_PRECISION);
  const maxAge = options.maxFixAgeMs ?? DEFAULT_MAX_FIX_AGE_MS;
  const stats: ObserverStats = { observations: 0, noFix: 0, staleFix: 0, appendFailed: 0 };
  let fix: { lat: number; lon: number; quality: number; at: number } | undefined;
  const pending = new Set<Promise<unknown>>();
  let unsubs: (() => void)[] = [];

  const onReading = (sensor: string) => (r: Reading) => {
    if (r.kind === 'fix') {
      fix = { lat: r.lat, lon: r.lon, quality: r.quality, at: clock.monotonic() };
      return;
    }
    let where: { lat: number; lon: number; quality: number };
    if (fix && clock.monotonic() - fix.at <= maxAge) where = fix;
    else if (options.staticPosition) where = { ...options.staticPosition, quality: 7 };
    else {
      if (fix) stats.staleFix++;
      else stats.noFix++;
      return;
    }
    const input = observationInput(
      { lat: where.lat, lon: where.lon, metric: r.metric, value: r.value, fix: where.quality, sensor },
      precision,
    );
    const p = series.append(input).then(
      () => {
        stats.observations++;
      },
      (err: unknown) => {
        stats.appendFailed++;
        log.error({ err }, 'observation append failed');
      },
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  return {
    start() {
      if (unsubs.length > 0) return;
      unsubs = options.drivers.map((d) => d.onReading(onReading(d.name)));
    },
    async stop() {
      for (const u of unsubs) u();
      unsubs = [];
      await Promise.all([...pending]);
    },
    stats: () => ({ ...stats }),
  };
}
