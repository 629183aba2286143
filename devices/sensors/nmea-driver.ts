/**
 * NMEA 0183 GPS driver: handed a readable port, it frames lines, checks
 * checksums and emits a `fix` reading for every GGA or RMC sentence with a valid fix, from any
 * talker. Rejections are counted by reason; other sentences are ignored and counted.
 */
import type { Clock } from '../../src/clock.js';
import { systemClock } from '../../src/clock.js';
import type { Logger } from '../../src/log.js';
import { silentLogger } from '../../src/log.js';
import { count, createReadingEmitter } from './emitter.js';
import { createLineDriver } from './lines.js';
import { parseNmea } from './nmea.js';

/** The quality an RMC with status A and no mode field stands for when no GGA said better: a GPS fix. */
const RMC_VALID_FIX_QUALITY = 1;

import type { DriverStats, SensorDriver, SerialPortLike } from './types.js';

export interface NmeaGpsOptions {
  /** Stamps readings with local receipt time. Default the system clock. */
  clock?: Clock;
  log?: Logger;
  /** Emit fixes from these sentence types. Default both `GGA` and `RMC`. */
  sentences?: readonly ('GGA' | 'RMC')[];
}

export function createNmeaGps(port: SerialPortLike, options: NmeaGpsOptions = {}): SensorDriver {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const wanted = new Set(options.sentences ?? ['GGA', 'RMC']);
  const stats: DriverStats = { lines: 0, fixes: 0, ignored: 0 };
  const loggedReasons = new Set<string>();
  // An RMC without a mode field says only "valid fix": it keeps the quality the last GGA gave.
  let ggaQuality: number | undefined;
  const emitter = createReadingEmitter((err) => log.warn({ err }, 'nmea reading listener threw'));

  const onLine = (line: string): void => {
    if (line.length === 0 || line.startsWith('#')) return; // blank lines, capture headers
    count(stats, 'lines');
    const r = parseNmea(line);
    if (r.ok === 'ignored') {
      count(stats, 'ignored');
      return;
    }
    if (!r.ok) {
      count(stats, r.reason);
      if (!loggedReasons.has(r.reason)) {
        // Logged once per reason: a noisy port must not flood the log.
        loggedReasons.add(r.reason);
        log.debug({ reason: r.reason, line: line.slice(0, 100) }, 'nmea sentence rejected');
      }
      return;
    }
    const p = r.position;
    count(stats, p.sentence.toLowerCase());
    if (p.sentence === 'GGA') ggaQuality = p.quality;
    if (!wanted.has(p.sentence)) return;
    count(stats, 'fixes');
    emitter.emit({ kind: 'fix', ...p, quality: p.quality ?? ggaQuality ?? RMC_VALID_FIX_QUALITY, t: clock.now() });
  };
  return createLineDriver({ name: 'nmea', port, onLine, stats, emitter });
}
