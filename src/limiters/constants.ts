/**
 * Limiter defaults, units in the names. Board profiles (`devices/boards/*.json`) override the
 * budgets and thresholds; these are what a part uses when it is given nothing.
 */

/** Paradigm: every limiter above this → YES without further checks. */
export const DEFAULT_YES_ABOVE = 0.7;
/** Paradigm: `economic` below this → NO `storage_full`. */
export const DEFAULT_STORAGE_FULL_BELOW = 0.2;
/** Paradigm: `w_tracking` below this → NO `rate_limited`. */
export const DEFAULT_RATE_LIMITED_BELOW = 0.3;
/** Extension: `cpu` below this → NO `cpu_busy`. */
export const DEFAULT_CPU_BUSY_BELOW = 0.2;
/** Extension: `memory` below this → NO `memory_low`. */
export const DEFAULT_MEMORY_LOW_BELOW = 0.15;

/**
 * What each intent kind consumes, beyond the rate, CPU and memory every answer costs. A kind listed
 * with `'storage'` writes bytes the node keeps (`store_chunk`), so `economic` can refuse it with NO
 * `storage_full`; every other kind (`want_chunk`, `want_chunks`, `want_observations`, …) only reads
 * and is never refused for a full card. A table here rather than a flag on each handler because
 * `replayDecisions` must apply the same rule from the series alone, where there are no handlers:
 * the recorded `decision` carries `kind`, and the table in force is recorded in `limiter_config`.
 */
export type KindCost = 'storage';
export const DEFAULT_KIND_COSTS: Readonly<Record<string, readonly KindCost[]>> = Object.freeze({
  store_chunk: Object.freeze(['storage'] as const),
});

/** Limiter values are rounded to this many decimals before the policy sees them (and recorded so). */
export const LIMITER_DECIMALS = 4;

/** How often `fs.statfs` is called on the data folder, ms (never per intent). */
export const DEFAULT_STATFS_EVERY_MS = 2_000;
/** Free space the node never eats into, bytes (the OS and logs need some). */
export const DEFAULT_STORAGE_RESERVE_BYTES = 64 * 1024 * 1024;
/** Storage budget when none is given, bytes. */
export const DEFAULT_STORAGE_BUDGET_BYTES = 256 * 1024 * 1024;

/** CPU sample window, ms: event-loop delay p90 and process CPU share are measured over it. */
export const DEFAULT_CPU_WINDOW_MS = 500;
/** Event-loop histogram resolution, ms. */
export const DEFAULT_LOOP_RESOLUTION_MS = 10;
/** Percentile of the event-loop delay the `cpu` limiter uses (see cpu.ts for why not p99). */
export const LOOP_DELAY_PERCENTILE = 90;
/** Event-loop delay p90 at which `cpu` reaches 0, ms. */
export const DEFAULT_LOOP_DELAY_BUDGET_MS = 200;
/** Process CPU use (all threads) at which `cpu` reaches 0, in cores (1 = one core fully busy). */
export const DEFAULT_CPU_BUDGET_CORES = 1;

/** Memory sample period, ms (`process.memoryUsage()` reads /proc: not per intent). */
export const DEFAULT_MEMORY_EVERY_MS = 500;
/** RSS at which `memory` reaches 0, bytes. */
export const DEFAULT_RSS_BUDGET_BYTES = 512 * 1024 * 1024;

/** Sliding window of `w_tracking`, ms. */
export const DEFAULT_INTENT_WINDOW_MS = 10_000;
/** Buckets in the `w_tracking` ring (the window's resolution is windowMs / buckets). */
export const DEFAULT_INTENT_BUCKETS = 20;
/** Intents per window at which `w_tracking` reaches 0. */
export const DEFAULT_INTENT_CAPACITY = 1_000;

/** `objective`: asks for the same subject within the window at which `objective` reaches 0. */
export const DEFAULT_POPULARITY_CAP = 50;
/** `objective`: most subjects tracked per generation (two generations are kept). */
export const DEFAULT_MAX_SUBJECTS = 1_024;

/** `topology`: broker round trip at which `topology` reaches 0, ms. */
export const DEFAULT_RTT_BUDGET_MS = 1_000;

/** `dameso limits`: how long to sample before printing, ms. */
export const DEFAULT_LIMITS_SAMPLE_MS = 1_200;

/** The answer side's record of each gate decision (`intent/answer.ts`): `{r, reason?, lim, …}`. */
export const DECISION_EVENT = 'decision';
/** Written when a node starts its limiters: `{board, thresholds}` in force from then on. */
export const LIMITER_CONFIG_EVENT = 'limiter_config';
/** Name of the `limiters` view (in every snapshot: replay reads the thresholds from it). */
export const LIMITERS_VIEW = 'limiters';
