/**
 * `w_tracking`: intents received in a sliding time window vs capacity.
 *
 * A fixed ring of `buckets` counters over `windowMs` of monotonic time, with a running sum: `record`
 * and `value` are O(1) amortised (at most `buckets` slots cleared when time jumps), and memory is
 * fixed at `buckets` numbers whatever the storm (the bound).
 *
 * value = 1 − count/capacity, so with the paradigm's 0.3 threshold NO `rate_limited` starts when the
 * window holds more than 0.7 × capacity intents.
 *
 * Not restored after a restart (not derived from the series), on purpose: the window is seconds
 * long, shorter than a restart; rebuilding it would need one series entry per received intent,
 * which is the write amplification a storm must not cause; and starting empty errs permissive for
 * at most one window, while `economic` (real bytes) and `memory`/`cpu` (real measurements) protect
 * the node from the first sample after start.
 */
import type { Clock } from '../clock.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_INTENT_BUCKETS, DEFAULT_INTENT_CAPACITY, DEFAULT_INTENT_WINDOW_MS } from './constants.js';
import { clamp01, type Limiter } from './types.js';

export interface WTrackingOptions {
  clock: Clock;
  /** Intents per window at which the value reaches 0. Default `DEFAULT_INTENT_CAPACITY` (1000). */
  capacity?: number;
  /** Window, ms. Default `DEFAULT_INTENT_WINDOW_MS` (10 s). */
  windowMs?: number;
  /** Ring size; resolution = windowMs / buckets. Default `DEFAULT_INTENT_BUCKETS` (20). */
  buckets?: number;
}

export interface WTrackingLimiter extends Limiter {
  /** Count one received intent now (`now`: the caller's monotonic read, default the clock). */
  record(now?: number): void;
  /** Intents in the window now. */
  count(now?: number): number;
  /** ms until the count drops below `fraction` × capacity, assuming nothing else arrives. */
  msUntilBelow(fraction: number, now?: number): number;
  readonly capacity: number;
  readonly windowMs: number;
  /** Slots in the ring (the memory bound). */
  readonly buckets: number;
}

export function createWTracking(options: WTrackingOptions): WTrackingLimiter {
  const capacity = options.capacity ?? DEFAULT_INTENT_CAPACITY;
  const windowMs = options.windowMs ?? DEFAULT_INTENT_WINDOW_MS;
  const buckets = options.buckets ?? DEFAULT_INTENT_BUCKETS;
  if (!(capacity > 0)) throw new ConfigError('intents.capacityPerWindow', 'must be > 0');
  if (!(windowMs > 0)) throw new ConfigError('intents.windowMs', 'must be > 0');
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 10_000) {
    throw new ConfigError('intents.buckets', 'must be an integer in 1..10000');
  }
  const clock = options.clock;
  const bucketMs = windowMs / buckets;
  const counts = new Float64Array(buckets);
  // Absolute bucket index (floor(monotonic / bucketMs)) of the newest slot written.
  let head = Math.floor(clock.monotonic() / bucketMs);
  let sum = 0;

  const advance = (now: number): number => {
    const idx = Math.floor(now / bucketMs);
    if (idx > head) {
      const steps = Math.min(idx - head, buckets);
      for (let i = 1; i <= steps; i++) {
        const slot = (head + i) % buckets;
        sum -= counts[slot]!;
        counts[slot] = 0;
      }
      head = idx;
    }
    return idx;
  };

  const count = (now = clock.monotonic()): number => {
    advance(now);
    return sum;
  };

  return {
    name: 'w_tracking',
    capacity,
    windowMs,
    buckets,
    record(now = clock.monotonic()) {
      const idx = advance(now);
      counts[idx % buckets]! += 1;
      sum += 1;
    },
    count,
    value: (_intent, now) => clamp01(1 - count(now) / capacity),
    msUntilBelow(fraction, now = clock.monotonic()) {
      advance(now);
      const limit = fraction * capacity;
      if (sum < limit) return 0;
      // Walk from the oldest slot: each slot leaves the window at the end of its bucket.
      let remaining = sum;
      for (let age = buckets - 1; age >= 0; age--) {
        const abs = head - age;
        remaining -= counts[((abs % buckets) + buckets) % buckets]!;
        if (remaining < limit) return Math.max(0, (abs + buckets) * bucketMs - now);
      }
      return windowMs;
    },
    detail: () => ({ count: count(), capacity, windowMs, buckets }),
  };
}
