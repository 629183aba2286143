/**
 * Line-protocol sensor: a microcontroller prints `metric=value` pairs, one or several per line
 * separated by spaces, commas or semicolons (`temp=21.5 hum=40`). Each pair becomes a `value`
 * reading; a line with no valid pair, or with any malformed pair, is counted as malformed and
 * emits nothing (a half-garbled line is not trusted).
 */
import type { Clock } from '../../src/clock.js';
import { systemClock } from '../../src/clock.js';
import type { Logger } from '../../src/log.js';
import { silentLogger } from '../../src/log.js';
import { count, createReadingEmitter } from './emitter.js';
import { createLineDriver } from './lines.js';
import type { DriverStats, SensorDriver, SerialPortLike } from './types.js';

const METRIC = /^[a-z][a-z0-9_.]{0,31}$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parse one line into pairs; `undefined` when malformed. Blank lines and `#` comments give `[]`. */
export function parseLineProtocol(line: string): { metric: string; value: number }[] | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return [];
  const out: { metric: string; value: number }[] = [];
  for (const token of trimmed.split(/[\s,;]+/)) {
    const eq = token.indexOf('=');
    if (eq < 0) return undefined;
    const metric = token.slice(0, eq);
    const raw = token.slice(eq + 1);
    if (!METRIC.test(metric) || !NUMBER.test(raw)) return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value)) return undefined;
    out.push({ metric, value });
  }
  return out;
}

export interface LineSensorOptions {
  clock?: Clock;
  log?: Logger;
  /** Only emit these metrics (others are counted as `filtered`). Default all. */
  metrics?: readonly string[];
}

export function createLineSensor(port: SerialPortLike, options: LineSensorOptions = {}): SensorDriver {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const only = options.metrics ? new Set(options.metrics) : undefined;
  const stats: DriverStats = { lines: 0, readings: 0, malformed: 0, filtered: 0 };
  let loggedMalformed = false;
  const emitter = createReadingEmitter((err) => log.warn({ err }, 'line sensor listener threw'));
  const onLine = (line: string): void => {
    count(stats, 'lines');
    const pairs = parseLineProtocol(line);
    if (pairs === undefined) {
      count(stats, 'malformed');
      if (!loggedMalformed) {
        loggedMalformed = true;
        log.debug({ line: line.slice(0, 100) }, 'line sensor: malformed line');
      }
      return;
    }
    const t = clock.now();
    for (const { metric, value } of pairs) {
      if (only && !only.has(metric)) {
        count(stats, 'filtered');
        continue;
      }
      count(stats, 'readings');
      emitter.emit({ kind: 'value', metric, value, t });
    }
  };
  return createLineDriver({ name: 'line', port, onLine, stats, emitter });
}
