/**
 * `cpu`: is the process keeping up? Two real measurements over a window, the tighter one wins:
 * - event-loop delay p90 (`perf_hooks.monitorEventLoopDelay`) against `loopDelayBudgetMs`: what
 *   the callbacks of this node wait, whatever the cause (sync work, GC, a starved core). p90, not
 *   p99: a window holds about windowMs/resolution samples, so p99 is the single worst stall (one
 *   GC pause would refuse for a whole window); p90 needs the lag to last;
 * - process CPU use (`process.cpuUsage()`, all threads, workers included) in cores against
 *   `budgetCores`: what the node takes from a board it shares with its sensors and the OS.
 *
 * value = min(1 − p90/loopDelayBudgetMs, 1 − cores/budgetCores), clamped. Sampled on the limiter's
 * timer every `windowMs`; `value()` returns the last window's figure. Before the first window has
 * closed the value is 1 (no evidence of load).
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../clock.js';
import { ConfigError } from '../errors.js';
import {
  DEFAULT_CPU_BUDGET_CORES,
  DEFAULT_CPU_WINDOW_MS,
  DEFAULT_LOOP_DELAY_BUDGET_MS,
  DEFAULT_LOOP_RESOLUTION_MS,
  LOOP_DELAY_PERCENTILE,
} from './constants.js';
import { clamp01, type Limiter } from './types.js';

export interface CpuOptions {
  clock: Clock;
  /** Window over which loop delay p90 and CPU share are measured, ms. Default `DEFAULT_CPU_WINDOW_MS` (500). */
  windowMs?: number;
  /** p90 event-loop delay at which the value reaches 0, ms. Default 200. */
  loopDelayBudgetMs?: number;
  /** Process CPU (all threads) at which the value reaches 0, cores. Default 1. */
  budgetCores?: number;
  /** Histogram resolution, ms. Default 10. */
  resolutionMs?: number;
  /** Called after each window with the new value (tests wait on it instead of sleeping). */
  onSample?: (value: number) => void;
}

export interface CpuLimiter extends Limiter {
  /** Close the current window now and compute the value (also done by the timer). */
  sample(): number;
  readonly windowMs: number;
  start(): void;
  stop(): void;
}

export function createCpu(options: CpuOptions): CpuLimiter {
  const windowMs = options.windowMs ?? DEFAULT_CPU_WINDOW_MS;
  const loopBudget = options.loopDelayBudgetMs ?? DEFAULT_LOOP_DELAY_BUDGET_MS;
  const budgetCores = options.budgetCores ?? DEFAULT_CPU_BUDGET_CORES;
  const resolution = options.resolutionMs ?? DEFAULT_LOOP_RESOLUTION_MS;
  if (!(windowMs > 0)) throw new ConfigError('cpu.sampleWindowMs', 'must be > 0');
  if (!(loopBudget > 0)) throw new ConfigError('cpu.loopDelayBudgetMs', 'must be > 0');
  if (!(budgetCores > 0)) throw new ConfigError('cpu.budgetCores', 'must be > 0');
  const { clock } = options;
  let histogram: IntervalHistogram | undefined;
  let timer: TimerHandle | undefined;
  let lastUsage: NodeJS.CpuUsage | undefined;
  let lastAt = 0;
  let p90Ms = 0;
  let cores = 0;
  let current = 1;

  const sample = (): number => {
    if (histogram === undefined || lastUsage === undefined) return current;
    const now = clock.monotonic();
    const elapsedMs = now - lastAt;
    if (elapsedMs <= 0) return current;
    const usage = process.cpuUsage(lastUsage);
    lastUsage = process.cpuUsage();
    lastAt = now;
    cores = (usage.user + usage.system) / 1000 / elapsedMs;
    // The histogram records how late each `resolution` tick fired, in ns; subtract the tick itself.
    p90Ms = histogram.count > 0 ? Math.max(0, histogram.percentile(LOOP_DELAY_PERCENTILE) / 1e6 - resolution) : 0;
    histogram.reset();
    current = clamp01(Math.min(1 - p90Ms / loopBudget, 1 - cores / budgetCores));
    options.onSample?.(current);
    return current;
  };

  return {
    name: 'cpu',
    windowMs,
    sample,
    value: () => current,
    start() {
      if (timer !== undefined) return;
      histogram = monitorEventLoopDelay({ resolution });
      histogram.enable();
      lastUsage = process.cpuUsage();
      lastAt = clock.monotonic();
      timer = clock.setInterval(sample, windowMs);
    },
    stop() {
      clock.clearInterval(timer);
      timer = undefined;
      histogram?.disable();
      histogram = undefined;
    },
    detail: () => ({
      loopDelayP90Ms: round(p90Ms),
      loopDelayBudgetMs: loopBudget,
      cpuCores: round(cores),
      budgetCores,
      windowMs,
    }),
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
