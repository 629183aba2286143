/**
 * A simulated sensor over a synthetic field: reads the ground truth at its position, adds gaussian
 * noise from a seeded PRNG and an optional bias (a liar in tests and fleets). It also reports its
 * position as a `fix` with NMEA quality 8 (simulation mode), so an observer joins it like a GPS.
 * Driven by the injected clock: no real timers in tests.
 */
import type { Clock, TimerHandle } from '../../src/clock.js';
import { systemClock } from '../../src/clock.js';
import type { Logger } from '../../src/log.js';
import { silentLogger } from '../../src/log.js';
import { DEFAULT_SIM_INTERVAL_MS, DEFAULT_SIM_NOISE_SIGMA, DEFAULT_SIM_SEED } from './constants.js';
import { count, createReadingEmitter } from './emitter.js';
import { SensorOptionError } from './errors.js';
import type { Field } from './field.js';
import { createPrng } from './prng.js';
import type { DriverStats, SensorDriver } from './types.js';

export interface SimulatedSensorOptions {
  field: Field;
  /** Where the sensor is, decimal degrees; a function lets it move. */
  position: { lat: number; lon: number } | (() => { lat: number; lon: number });
  /** Metric name. Default `value`. */
  metric?: string;
  /** Gaussian noise sd, metric unit. Default `DEFAULT_SIM_NOISE_SIGMA` (1). */
  noiseSigma?: number;
  /** Added to every reading, metric unit. Default 0 (honest). */
  bias?: number;
  /** PRNG seed. Default `DEFAULT_SIM_SEED`. */
  seed?: number;
  /** ms between readings while started. Default `DEFAULT_SIM_INTERVAL_MS` (1000). */
  intervalMs?: number;
  /** Also emit a `fix` (quality 8) before each value. Default true. */
  emitFix?: boolean;
  clock?: Clock;
  log?: Logger;
}

export interface SimulatedSensor extends SensorDriver {
  /** Take one reading now (emits it too); used by `start()`'s timer and by tests. */
  sample(): number;
}

export function createSimulatedSensor(options: SimulatedSensorOptions): SimulatedSensor {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const sigma = options.noiseSigma ?? DEFAULT_SIM_NOISE_SIGMA;
  const intervalMs = options.intervalMs ?? DEFAULT_SIM_INTERVAL_MS;
  if (!(sigma >= 0)) throw new SensorOptionError('noiseSigma', `must be >= 0, got ${sigma}`);
  if (!(intervalMs > 0)) throw new SensorOptionError('intervalMs', `must be > 0, got ${intervalMs}`);
  const bias = options.bias ?? 0;
  const metric = options.metric ?? 'value';
  const emitFix = options.emitFix ?? true;
  const prng = createPrng(options.seed ?? DEFAULT_SIM_SEED);
  const where =
    typeof options.position === 'function' ? options.position : () => options.position as { lat: number; lon: number };
  const stats: DriverStats = { readings: 0 };
  const emitter = createReadingEmitter((err) => log.warn({ err }, 'simulated sensor listener threw'));
  let timer: TimerHandle | undefined;

  const sample = (): number => {
    const { lat, lon } = where();
    const t = clock.now();
    const value = options.field(lat, lon) + sigma * prng.gaussian() + bias;
    if (emitFix) {
      emitter.emit({
        kind: 'fix',
        lat,
        lon,
        quality: 8,
        sentence: 'GGA',
        talker: 'SIM',
        utcMs: t,
        dated: true,
        t,
      });
    }
    count(stats, 'readings');
    emitter.emit({ kind: 'value', metric, value, t });
    return value;
  };

  return {
    name: 'simulated',
    sample,
    start() {
      if (timer !== undefined) return;
      timer = clock.setInterval(sample, intervalMs);
    },
    async stop() {
      clock.clearInterval(timer);
      timer = undefined;
    },
    onReading: (l) => emitter.on(l),
    stats: () => ({ ...stats }),
  };
}
