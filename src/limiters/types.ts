/**
 * What every limiter is: a number in [0,1] (1 = plenty) that is cheap to read. Sampling that costs
 * (statfs, /proc, histograms) happens on the limiter's own timer between `start()` and `stop()`;
 * `value()` only reads cached numbers and does no I/O.
 */
import type { ReceivedIntent } from '../intent/index.js';
import type { LimiterValues } from '../protocol/index.js';

export { LIMITER_NAMES } from '../protocol/index.js';

export type LimiterName = keyof LimiterValues;

export interface Limiter {
  readonly name: LimiterName;
  /**
   * Current value in [0,1]; some limiters look at the intent (objective), most ignore it. `now` is
   * the caller's monotonic time, read once per decision: limiters that keep time windows use it
   * instead of reading the clock again (a clock read per limiter per intent adds up in a storm).
   */
  value(intent?: ReceivedIntent, now?: number): number;
  /** The raw measurements and the budgets they are measured against (for `dameso limits`, logs). */
  detail(): Record<string, number | string | null>;
  /** Start sampling (timers, first I/O). Idempotent. */
  start?(): Promise<void> | void;
  /** Stop timers. Idempotent. */
  stop?(): Promise<void> | void;
}

/** The six limiters a gate consults. */
export type LimiterSet = { readonly [K in LimiterName]: Limiter };

/** Clamp to [0,1]; NaN (no data) counts as plenty, never as a reason to refuse. */
export function clamp01(x: number): number {
  if (Number.isNaN(x)) return 1;
  return Math.max(0, Math.min(1, x));
}
