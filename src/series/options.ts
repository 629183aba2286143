/**
 * `SeriesOptions` resolved to their defaults and checked: bad configuration throws at creation,
 * naming the key and the fix.
 */
import { type Clock, systemClock } from '../clock.js';
import { ConfigError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import {
  DEFAULT_BATCH_MAX_BYTES,
  DEFAULT_BATCH_WINDOW_MS,
  DEFAULT_BUDGET_BYTES,
  DEFAULT_SEGMENT_BYTES,
  MAX_ENTRY_BYTES,
  MAX_RECORD_BYTES,
} from './constants.js';
import type { Durability, SeriesOptions } from './types.js';

export interface ResolvedOptions {
  dir: string;
  durability: Durability;
  windowMs: number;
  batchMaxBytes: number;
  segmentBytes: number;
  budgetBytes: number;
  maxEntryBytes: number;
  clock: Clock;
  log: Logger;
  readOnly: boolean;
}

export function resolveOptions(opts: SeriesOptions): ResolvedOptions {
  const o: ResolvedOptions = {
    dir: opts.dir,
    durability: opts.durability ?? 'batch',
    windowMs: opts.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS,
    batchMaxBytes: opts.batchMaxBytes ?? DEFAULT_BATCH_MAX_BYTES,
    segmentBytes: opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
    budgetBytes: opts.budgetBytes ?? DEFAULT_BUDGET_BYTES,
    maxEntryBytes: opts.maxEntryBytes ?? MAX_ENTRY_BYTES,
    clock: opts.clock ?? systemClock,
    log: opts.log ?? silentLogger,
    readOnly: opts.readOnly ?? false,
  };
  if (typeof o.dir !== 'string' || o.dir.length === 0) throw new ConfigError('dir', 'must name the series folder');
  if (!['always', 'batch', 'none'].includes(o.durability)) {
    throw new ConfigError('durability', `"${o.durability}" is not always, batch or none`);
  }
  if (!(o.windowMs >= 0)) throw new ConfigError('batchWindowMs', 'must be a number of ms >= 0');
  if (!(o.batchMaxBytes >= 1)) throw new ConfigError('batchMaxBytes', 'must be a number of bytes >= 1');
  if (!(o.segmentBytes >= 4096)) throw new ConfigError('segmentBytes', 'must be at least 4096 bytes');
  if (!(o.budgetBytes >= 2 * o.segmentBytes)) {
    throw new ConfigError('budgetBytes', 'must be at least twice segmentBytes (the ring keeps whole segments)');
  }
  if (!(o.maxEntryBytes > 0 && o.maxEntryBytes <= MAX_RECORD_BYTES)) {
    throw new ConfigError('maxEntryBytes', `must be in 1..${MAX_RECORD_BYTES}`);
  }
  return o;
}
