import type { LimiterValues } from '../protocol/index.js';
import { LIMITER_DECIMALS } from './constants.js';

const SCALE = 10 ** LIMITER_DECIMALS;

/** Round each value to `LIMITER_DECIMALS`: the exact numbers the policy sees and the series keeps. */
export function roundValues(v: LimiterValues): LimiterValues {
  return {
    economic: r(v.economic),
    cpu: r(v.cpu),
    memory: r(v.memory),
    w_tracking: r(v.w_tracking),
    objective: r(v.objective),
    topology: r(v.topology),
  };
}

/** One value rounded to `LIMITER_DECIMALS`. */
export function roundValue(x: number): number {
  return r(x);
}

function r(x: number): number {
  return Math.round(x * SCALE) / SCALE;
}
