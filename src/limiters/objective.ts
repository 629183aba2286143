/**
 * `objective`: is answering this intent still worth it for the network? Defined simply:
 *
 *   objective = min(1 − asks/popularityCap, 1 − heldShare)
 *
 * - `asks` = how often this node was asked for the same subject recently (two generations of
 *   `windowMs` each). A subject asked of this node over and over is a hot spot or a retry loop: the
 *   node has already served it and others should share the load.
 * - `heldShare` (optional collaborator, [0,1]) = how much the node already holds, e.g. held chunks
 *   vs the chunk store's capacity: a node that holds a lot has done its part.
 * An intent without a subject has asks = 0.
 *
 * With the default policy `objective` never refuses on its own: it only takes an answer off the
 * all-above-0.7 fast path and is recorded with the decision. Bound: at most `maxSubjects` subjects
 * per generation (older ones dropped first), two generations.
 */
import type { Clock } from '../clock.js';
import type { ReceivedIntent } from '../intent/index.js';
import { DEFAULT_INTENT_WINDOW_MS, DEFAULT_MAX_SUBJECTS, DEFAULT_POPULARITY_CAP } from './constants.js';
import { clamp01, type Limiter } from './types.js';

export interface ObjectiveOptions {
  clock: Clock;
  /** Asks for one subject at which the value reaches 0. Default `DEFAULT_POPULARITY_CAP` (50). */
  popularityCap?: number;
  /** Generation length, ms. Default `DEFAULT_INTENT_WINDOW_MS` (10 s). */
  windowMs?: number;
  /** Subjects kept per generation. Default `DEFAULT_MAX_SUBJECTS` (1024). */
  maxSubjects?: number;
  /** Share of its capacity the node already holds, [0,1]; must be cheap. Default: none (0). */
  heldShare?: () => number;
}

export interface ObjectiveLimiter extends Limiter {
  /** Count one ask for `subject` now (`now`: the caller's monotonic read, default the clock). */
  record(subject: string | undefined, now?: number): void;
  /** Asks for `subject` in the last one to two windows. */
  asks(subject: string, now?: number): number;
  /** Subjects tracked now (≤ 2 × maxSubjects). */
  tracked(): number;
}

export function createObjective(options: ObjectiveOptions): ObjectiveLimiter {
  const cap = options.popularityCap ?? DEFAULT_POPULARITY_CAP;
  const windowMs = options.windowMs ?? DEFAULT_INTENT_WINDOW_MS;
  const maxSubjects = options.maxSubjects ?? DEFAULT_MAX_SUBJECTS;
  const { clock, heldShare } = options;
  let current = new Map<string, number>();
  let previous = new Map<string, number>();
  let generationStart = clock.monotonic();

  const rotate = (now: number): void => {
    const age = now - generationStart;
    if (age < windowMs) return;
    previous = age < 2 * windowMs ? current : new Map();
    current = new Map();
    generationStart = now;
  };

  const asks = (subject: string, now = clock.monotonic()): number => {
    rotate(now);
    return (current.get(subject) ?? 0) + (previous.get(subject) ?? 0);
  };

  return {
    name: 'objective',
    record(subject, now = clock.monotonic()) {
      if (subject === undefined) return;
      rotate(now);
      const n = current.get(subject);
      if (n !== undefined) {
        current.set(subject, n + 1);
        return;
      }
      if (current.size >= maxSubjects) {
        const oldest = current.keys().next().value;
        if (oldest !== undefined) current.delete(oldest);
      }
      current.set(subject, 1);
    },
    asks,
    tracked: () => current.size + previous.size,
    value(intent?: ReceivedIntent, now?: number) {
      const subject = intent?.envelope.subject;
      const popularity = subject === undefined ? 1 : 1 - asks(subject, now) / cap;
      const held = heldShare === undefined ? 1 : 1 - heldShare();
      return clamp01(Math.min(popularity, held));
    },
    detail: () => ({ popularityCap: cap, windowMs, trackedSubjects: current.size + previous.size, maxSubjects }),
  };
}
