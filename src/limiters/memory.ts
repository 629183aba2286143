/**
 * `memory`: how close the process is to its memory budget. Two real measurements, the tighter wins:
 * - RSS (`process.memoryUsage()`) against `rssBudgetBytes` (the board's share for dameso);
 * - V8 heap used against the heap limit the process runs with (`--max-old-space-size`, from
 *   `v8.getHeapStatistics().heap_size_limit`), since the heap running out kills the process first.
 *
 * value = min(1 − rss/rssBudget, 1 − heapUsed/heapLimit), clamped. `process.memoryUsage()` reads
 * /proc, so it runs on a timer every `everyMs`, never per intent, and once for the whole process
 * (`process-probe.ts`), each node holding the sample to its own budgets.
 */
import { getHeapStatistics } from 'node:v8';
import type { Clock } from '../clock.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_MEMORY_EVERY_MS, DEFAULT_RSS_BUDGET_BYTES } from './constants.js';
import { type MemorySample, memoryProbe, type Probe } from './process-probe.js';
import { clamp01, type Limiter } from './types.js';

export interface MemoryOptions {
  clock: Clock;
  /** RSS at which the value reaches 0, bytes. Default `DEFAULT_RSS_BUDGET_BYTES` (512 MiB). */
  rssBudgetBytes?: number;
  /** Heap budget, bytes; the running process's `heap_size_limit` binds when it is lower. Default: that limit. */
  heapLimitBytes?: number;
  /** Sample period, ms. Default `DEFAULT_MEMORY_EVERY_MS` (500). */
  everyMs?: number;
  /** Where the samples come from. Default: the process's memory probe for this period (process-probe.ts). */
  probe?: Probe<MemorySample>;
}

export interface MemoryLimiter extends Limiter {
  /** Sample now (also done at `start()` and by the probe's timer). */
  sample(): number;
  start(): void;
  stop(): void;
}

export function createMemory(options: MemoryOptions): MemoryLimiter {
  const rssBudget = options.rssBudgetBytes ?? DEFAULT_RSS_BUDGET_BYTES;
  const everyMs = options.everyMs ?? DEFAULT_MEMORY_EVERY_MS;
  if (!(rssBudget > 0)) throw new ConfigError('memory.budgetBytes', 'must be > 0');
  const probe = options.probe ?? memoryProbe(options.clock, everyMs);
  let heapLimit = 0;
  let last: MemorySample = { rssBytes: 0, heapUsedBytes: 0 };
  let current = 1;
  let unsubscribe: (() => void) | undefined;

  const apply = (s: MemorySample): void => {
    last = s;
    current = clamp01(Math.min(1 - s.rssBytes / rssBudget, heapLimit > 0 ? 1 - s.heapUsedBytes / heapLimit : 1));
  };
  const limit = (): void => {
    heapLimit = Math.min(options.heapLimitBytes ?? Number.POSITIVE_INFINITY, getHeapStatistics().heap_size_limit);
  };

  return {
    name: 'memory',
    sample() {
      if (heapLimit === 0) limit();
      const s = probe.sample(); // every subscriber hears it, this limiter too once started
      if (unsubscribe === undefined) apply(s);
      return current;
    },
    value: () => current,
    start() {
      if (unsubscribe !== undefined) return;
      limit();
      unsubscribe = probe.subscribe(apply);
      // Right from the start: the process's last sample when there is one (another node took it), else now.
      const known = probe.latest();
      if (known !== undefined) apply(known);
      else probe.sample();
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
    },
    detail: () => ({
      rssBytes: last.rssBytes,
      rssBudgetBytes: rssBudget,
      heapUsedBytes: last.heapUsedBytes,
      heapLimitBytes: heapLimit,
    }),
  };
}
