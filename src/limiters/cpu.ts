/**
 * `cpu`: is the process keeping up? Two real measurements over a window, the tighter one wins:
 * - event-loop delay p90 (`perf_hooks.monitorEventLoopDelay`) against `loopDelayBudgetMs`: what
 *   the callbacks of this node wait, whatever the cause (sync work, GC, a starved core). p90, not
 *   p99: a window holds about windowMs/resolution samples, so p99 is the single worst stall (one
 *   GC pause would refuse for a whole window); p90 needs the lag to last;
 * - process CPU use (`process.cpuUsage()`, all threads, workers included) in cores against
 *   `budgetCores`: what the node takes from a board it shares with its sensors and the OS.
 *
 * value = min(1 − p90/loopDelayBudgetMs, 1 − cores/budgetCores), clamped. The windows are the
 * process's (`process-probe.ts`: one measurement per window for every node in the process, each
 * node holding it to its own budgets); `value()` returns the last window's figure. Before the
 * first window has closed the value is 1 (no evidence of load).
 */
import type { Clock } from '../clock.js';
import { ConfigError } from '../errors.js';
import { roundTo } from '../round-to.js';
import {
  DEFAULT_CPU_BUDGET_CORES,
  DEFAULT_CPU_WINDOW_MS,
  DEFAULT_LOOP_DELAY_BUDGET_MS,
  DEFAULT_LOOP_RESOLUTION_MS,
} from './constants.js';
import { type LoadSample, loadProbe, type Probe } from './process-probe.js';
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
  /** Where the windows come from. Default: the process's probe for this window (process-probe.ts). */
  probe?: Probe<LoadSample>;
  /** Called after each window with the new value (tests wait on it instead of sleeping). */
  onSample?: (value: number) => void;
}

export interface CpuLimiter extends Limiter {
  /** Close the current window now and compute the value (also done by the probe's timer). */
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
  const probe = options.probe ?? loadProbe(options.clock, windowMs, resolution);
  let unsubscribe: (() => void) | undefined;
  let last: LoadSample = { cores: 0, loopDelayP90Ms: 0 };
  let current = 1;

  const apply = (s: LoadSample): void => {
    last = s;
    current = clamp01(Math.min(1 - s.loopDelayP90Ms / loopBudget, 1 - s.cores / budgetCores));
    options.onSample?.(current);
  };

  return {
    name: 'cpu',
    windowMs,
    sample() {
      if (unsubscribe === undefined) return current;
      probe.sample(); // tells every subscriber, this limiter included
      return current;
    },
    value: () => current,
    start() {
      if (unsubscribe === undefined) unsubscribe = probe.subscribe(apply);
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
    },
    detail: () => ({
      loopDelayP90Ms: roundTo(last.loopDelayP90Ms),
      loopDelayBudgetMs: loopBudget,
      cpuCores: roundTo(last.cores),
      budgetCores,
      windowMs,
    }),
  };
}
