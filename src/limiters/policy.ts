/**
 * The decision policy: pure, total, deterministic. Given the six limiter values and the thresholds
 * it says YES or NO with a reason. It is what `replayDecisions` runs again over the series.
 *
 * Order of checks (the first that matches wins), and why:
 * 1. every value > `yesAbove` → YES. Paradigm: the fast path; nothing is tight.
 * 2. `economic` < `storageFullBelow` → NO `storage_full`, only for kinds that consume storage
 *    (`DEFAULT_KIND_COSTS`: `store_chunk`; or when the kind is unknown to the caller). Paradigm.
 *    First among the NOs because waiting does not fix it (no `retry` hint) and answering YES would
 *    write data that does not fit. A read (`want_chunk`) costs no storage: a full node still serves.
 * 3. `memory` < `memoryLowBelow` → NO `memory_low`. The process itself is at risk (OOM kill loses
 *    unflushed work); protecting the node beats any other reason.
 * 4. `w_tracking` < `rateLimitedBelow` → NO `rate_limited`. Paradigm. Before `cpu_busy` because a
 *    storm is the usual cause of a busy loop: naming the cause tells requesters to back off for the
 *    window (`retry` = time until the window has room).
 * 5. `cpu` < `cpuBusyBelow` → NO `cpu_busy` (`retry` = one CPU sample window).
 * 6. otherwise YES. Paradigm: `objective` and `topology` never refuse on their own; they are
 *    recorded with every decision (and shape the fast path) so the series can explain it.
 */
import { ConfigError } from '../errors.js';
import type { LimiterValues, NoReason } from '../protocol/index.js';
import {
  DEFAULT_CPU_BUSY_BELOW,
  DEFAULT_KIND_COSTS,
  DEFAULT_MEMORY_LOW_BELOW,
  DEFAULT_RATE_LIMITED_BELOW,
  DEFAULT_STORAGE_FULL_BELOW,
  DEFAULT_YES_ABOVE,
  type KindCost,
} from './constants.js';
import { LIMITER_NAMES } from './types.js';

/** Thresholds in [0,1]; each optional with the paradigm's default. */
export interface Thresholds {
  /** All values strictly above → YES. Default 0.7. */
  yesAbove: number;
  /** `economic` strictly below → NO `storage_full`. Default 0.2. */
  storageFullBelow: number;
  /** `memory` strictly below → NO `memory_low`. Default 0.15. */
  memoryLowBelow: number;
  /** `w_tracking` strictly below → NO `rate_limited`. Default 0.3. */
  rateLimitedBelow: number;
  /** `cpu` strictly below → NO `cpu_busy`. Default 0.2. */
  cpuBusyBelow: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  yesAbove: DEFAULT_YES_ABOVE,
  storageFullBelow: DEFAULT_STORAGE_FULL_BELOW,
  memoryLowBelow: DEFAULT_MEMORY_LOW_BELOW,
  rateLimitedBelow: DEFAULT_RATE_LIMITED_BELOW,
  cpuBusyBelow: DEFAULT_CPU_BUSY_BELOW,
});

/** Retry hints in ms, attached to the NOs that waiting can fix. Not part of the verdict itself. */
export interface RetryHints {
  rateLimitedMs?: number;
  cpuBusyMs?: number;
}

/** What the intent being decided consumes. Default: storage too (the conservative, kind-blind rule). */
export interface DecideScope {
  storage?: boolean;
}

export type Verdict = { r: 'yes' } | { r: 'no'; reason: NoReason; retry?: number };

/** The one YES verdict (frozen, shared): a storm of YES allocates nothing for it. */
export const YES_VERDICT: Verdict = Object.freeze({ r: 'yes' });

export function decide(
  values: LimiterValues,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
  hints: RetryHints = {},
  scope: DecideScope = {},
): Verdict {
  const storage = scope.storage ?? true;
  let allAbove = true;
  for (const name of LIMITER_NAMES) {
    if (!(values[name] > thresholds.yesAbove)) {
      allAbove = false;
      break;
    }
  }
  if (allAbove) return YES_VERDICT;
  if (storage && values.economic < thresholds.storageFullBelow) return { r: 'no', reason: 'storage_full' };
  if (values.memory < thresholds.memoryLowBelow) return { r: 'no', reason: 'memory_low' };
  if (values.w_tracking < thresholds.rateLimitedBelow) return withRetry('rate_limited', hints.rateLimitedMs);
  if (values.cpu < thresholds.cpuBusyBelow) return withRetry('cpu_busy', hints.cpuBusyMs);
  return YES_VERDICT;
}

function withRetry(reason: NoReason, retry: number | undefined): Verdict {
  if (retry === undefined || !Number.isFinite(retry) || retry < 0) return { r: 'no', reason };
  return { r: 'no', reason, retry: Math.ceil(retry) };
}

/**
 * Whether `kind` consumes storage under `costs`. An absent kind (a caller that does not know it, an
 * entry written before kinds were costed) keeps the storage check: never less safe than before.
 */
export function consumesStorage(
  kind: unknown,
  costs: Readonly<Record<string, readonly KindCost[]>> = DEFAULT_KIND_COSTS,
): boolean {
  if (typeof kind !== 'string') return true;
  return Object.hasOwn(costs, kind) && (costs[kind]?.includes('storage') ?? false);
}

/** Merge partial thresholds over the defaults, rejecting values outside [0,1]. */
export function resolveThresholds(partial: Partial<Thresholds> = {}): Thresholds {
  const out = { ...DEFAULT_THRESHOLDS, ...partial };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new ConfigError(`thresholds.${k}`, `must be a number in [0,1], got ${String(v)}; fix the value`);
    }
  }
  for (const k of ['storageFullBelow', 'memoryLowBelow', 'rateLimitedBelow', 'cpuBusyBelow'] as const) {
    // A NO threshold above yesAbove would never fire for values between them: the fast path wins.
    if (out[k] > out.yesAbove) {
      throw new ConfigError(`thresholds.${k}`, `is ${out[k]}, above thresholds.yesAbove (${out.yesAbove}); lower it`);
    }
  }
  return out;
}
