/**
 * `memory`: how close the process is to its memory budget. Two real measurements, the tighter wins:
 * - RSS (`process.memoryUsage()`) against `rssBudgetBytes` (the board's share for dameso);
 * - V8 heap used against the heap limit the process runs with (`--max-old-space-size`, from
 *   `v8.getHeapStatistics().heap_size_limit`), since the heap running out kills the process first.
 *
 * value = min(1 − rss/rssBudget, 1 − heapUsed/heapLimit), clamped. `process.memoryUsage()` reads
 * /proc, so it runs on the limiter's timer every `everyMs`, never per intent.
 */
import { getHeapStatistics } from 'node:v8';
import type { Clock, TimerHandle } from '../clock.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_MEMORY_EVERY_MS, DEFAULT_RSS_BUDGET_BYTES } from './constants.js';
import { clamp01, type Limiter } from './types.js';

export interface MemoryOptions {
  clock: Clock;
  /** RSS at which the value reaches 0, bytes. Default `DEFAULT_RSS_BUDGET_BYTES` (512 MiB). */
  rssBudgetBytes?: number;
  /** Heap budget, bytes; the running process's `heap_size_limit` binds when it is lower. Default: that limit. */
  heapLimitBytes?: number;
  /** Sample period, ms. Default `DEFAULT_MEMORY_EVERY_MS` (500). */
  everyMs?: number;
}

export interface MemoryLimiter extends Limiter {
  /** Sample now (also done by `start()` and the timer). */
  sample(): number;
  start(): void;
  stop(): void;
}

export function createMemory(options: MemoryOptions): MemoryLimiter {
  const rssBudget = options.rssBudgetBytes ?? DEFAULT_RSS_BUDGET_BYTES;
  const everyMs = options.everyMs ?? DEFAULT_MEMORY_EVERY_MS;
  if (!(rssBudget > 0)) throw new ConfigError('memory.budgetBytes', 'must be > 0');
  const { clock } = options;
  let heapLimit = 0;
  let rss = 0;
  let heapUsed = 0;
  let current = 1;
  let timer: TimerHandle | undefined;

  const sample = (): number => {
    const m = process.memoryUsage();
    rss = m.rss;
    heapUsed = m.heapUsed;
    current = clamp01(Math.min(1 - rss / rssBudget, heapLimit > 0 ? 1 - heapUsed / heapLimit : 1));
    return current;
  };

  return {
    name: 'memory',
    sample,
    value: () => current,
    start() {
      if (timer !== undefined) return;
      heapLimit = Math.min(options.heapLimitBytes ?? Number.POSITIVE_INFINITY, getHeapStatistics().heap_size_limit);
      sample();
      timer = clock.setInterval(sample, everyMs);
    },
    stop() {
      clock.clearInterval(timer);
      timer = undefined;
    },
    detail: () => ({ rssBytes: rss, rssBudgetBytes: rssBudget, heapUsedBytes: heapUsed, heapLimitBytes: heapLimit }),
  };
}
