/**
 * `economic`: can the node still write? Two real measurements, the tighter one wins:
 * - the bytes the node stores (series + chunk store, from the `usedBytes` collaborator, which must be
 *   O(1): e.g. `series.stats().bytes + chunks.bytes()`) against its storage budget;
 * - the free space the file system really has under the data folder (`fs.statfs`, bytes available
 *   to this user) minus a reserve the node never eats into (the OS, logs and journald need it).
 *
 * value = min(budget − used, free − reserve) / budget, clamped to [0,1]: the share of the budget the
 * node can still write. statfs runs on the limiter's timer every `statfsEveryMs`, never per intent.
 */
import { statfs } from 'node:fs/promises';
import type { Clock, TimerHandle } from '../clock.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { DEFAULT_STATFS_EVERY_MS, DEFAULT_STORAGE_BUDGET_BYTES, DEFAULT_STORAGE_RESERVE_BYTES } from './constants.js';
import { clamp01, type Limiter } from './types.js';

export interface EconomicOptions {
  clock: Clock;
  /** Bytes the node stores now; called per decision, so it must be cheap (no I/O). */
  usedBytes: () => number;
  /** The data folder whose file system is measured with statfs. Omit to skip the free-space check. */
  dir?: string;
  /** Storage budget, bytes. Default `DEFAULT_STORAGE_BUDGET_BYTES` (256 MiB); boards override. */
  budgetBytes?: number;
  /** Free space never used, bytes. Default `DEFAULT_STORAGE_RESERVE_BYTES` (64 MiB). */
  reserveBytes?: number;
  /** statfs period, ms. Default `DEFAULT_STATFS_EVERY_MS` (2 s). */
  statfsEveryMs?: number;
  log?: Logger;
}

export interface EconomicLimiter extends Limiter {
  /** Run statfs now (also done by `start()` and by the timer); resolves when the sample is in. */
  sampleDisk(): Promise<void>;
  /** Bytes the node may still write under both measurements (may be negative). */
  headroomBytes(): number;
  readonly budgetBytes: number;
  start(): Promise<void>;
  stop(): void;
}

export function createEconomic(options: EconomicOptions): EconomicLimiter {
  const budgetBytes = options.budgetBytes ?? DEFAULT_STORAGE_BUDGET_BYTES;
  const reserveBytes = options.reserveBytes ?? DEFAULT_STORAGE_RESERVE_BYTES;
  const everyMs = options.statfsEveryMs ?? DEFAULT_STATFS_EVERY_MS;
  if (!(budgetBytes > 0)) throw new ConfigError('storage.budgetBytes', 'must be > 0');
  if (!(reserveBytes >= 0)) throw new ConfigError('storage.reserveBytes', 'must be >= 0');
  const { clock, usedBytes, dir, log } = options;
  // Unknown until the first statfs: counts as unlimited, the budget alone decides.
  let freeBytes = Number.POSITIVE_INFINITY;
  let timer: TimerHandle | undefined;
  let failedOnce = false;
  let inFlight: Promise<void> | undefined;

  const sampleDisk = (): Promise<void> => {
    if (dir === undefined) return Promise.resolve();
    inFlight ??= statfs(dir)
      .then((s) => {
        freeBytes = s.bavail * s.bsize;
      })
      .catch((err: unknown) => {
        // A missing folder or an odd file system must not stop the node: keep the last sample.
        if (!failedOnce) log?.warn({ err, dir }, 'statfs failed; economic uses the budget only');
        failedOnce = true;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  const headroomBytes = (): number => Math.min(budgetBytes - usedBytes(), freeBytes - reserveBytes);

  return {
    name: 'economic',
    budgetBytes,
    sampleDisk,
    headroomBytes,
    value: () => clamp01(headroomBytes() / budgetBytes),
    async start() {
      if (timer !== undefined || dir === undefined) return;
      timer = clock.setInterval(() => void sampleDisk(), everyMs);
      await sampleDisk();
    },
    stop() {
      clock.clearInterval(timer);
      timer = undefined;
    },
    detail: () => ({
      usedBytes: usedBytes(),
      budgetBytes,
      freeBytes: Number.isFinite(freeBytes) ? freeBytes : null,
      reserveBytes,
      headroomBytes: Number.isFinite(headroomBytes()) ? headroomBytes() : null,
    }),
  };
}
