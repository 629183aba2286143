/**
 * The `Gate` the answer side consults (contract: `intent/types.ts`). `intentSeen` feeds
 * `w_tracking` and `objective` for every intent received on a served kind; `decide` reads the six
 * limiters (cached numbers, no I/O), rounds them to `LIMITER_DECIMALS` (what is recorded is exactly
 * what was decided on, so replay is exact), runs the pure policy and attaches retry hints.
 * Every decision reads every limiter (a budget spent by the previous intent refuses the next one),
 * but with one clock read shared by the windowed limiters, and the rounded `lim` object is reused
 * (frozen) while the six values stay the same: a storm decides on the same values many times, and
 * one object per decision would be encoded into the reply and the series all the same.
 * The policy is per kind: the `economic` check applies only to kinds the cost table says consume
 * storage (`DEFAULT_KIND_COSTS`); rate, CPU and memory apply to all. The recorded `decision` carries
 * `kind`, so replay applies the same rule.
 */
import { type Clock, systemClock } from '../clock.js';
import type { Gate, GateDecision, ReceivedIntent } from '../intent/index.js';
import type { LimiterValues, NoReason } from '../protocol/index.js';
import { DEFAULT_KIND_COSTS, type KindCost } from './constants.js';
import type { CpuLimiter } from './cpu.js';
import type { ObjectiveLimiter } from './objective.js';
import { consumesStorage, decide, resolveThresholds, type Thresholds, YES_VERDICT } from './policy.js';
import { roundValue, roundValues } from './round.js';
import type { LimiterSet } from './types.js';
import type { WTrackingLimiter } from './w-tracking.js';

/** The set a gate needs: w_tracking and objective are fed by `intentSeen`. */
export type GateLimiters = LimiterSet & {
  readonly w_tracking: WTrackingLimiter;
  readonly objective: ObjectiveLimiter;
  readonly cpu: Pick<CpuLimiter, 'windowMs'> & LimiterSet['cpu'];
};

export interface LimiterGateOptions {
  limiters: GateLimiters;
  /** Partial thresholds over the paradigm's defaults (`DEFAULT_THRESHOLDS`). */
  thresholds?: Partial<Thresholds>;
  /** Kind → what it consumes. Default `DEFAULT_KIND_COSTS` (only `store_chunk` consumes storage). */
  kindCosts?: Readonly<Record<string, readonly KindCost[]>>;
  /** Times decisions for `stats().decideMs` (monotonic); default the system clock. */
  clock?: Clock;
}

export interface GateStats {
  seen: number;
  yes: number;
  no: Partial<Record<NoReason, number>>;
  /** Total monotonic ms spent in `decide` (sample + policy). */
  decideMs: number;
}

export interface LimiterGate extends Gate {
  readonly thresholds: Readonly<Thresholds>;
  /** The kind cost table in force (recorded in `limiter_config` for replay). */
  readonly kindCosts: Readonly<Record<string, readonly KindCost[]>>;
  /** The limiters behind it (for `detail()`, table sizes in tests, `dameso limits`). */
  readonly limiters: GateLimiters;
  /** Current values without deciding (rounded like a decision's `lim`). */
  values(intent?: ReceivedIntent): LimiterValues;
  /** Counters since creation (fixed size: one per reason). */
  stats(): GateStats;
}

export function createLimiterGate(options: LimiterGateOptions): LimiterGate {
  const { limiters } = options;
  const thresholds = Object.freeze(resolveThresholds(options.thresholds));
  const clock = options.clock ?? systemClock;
  const kindCosts = options.kindCosts ?? DEFAULT_KIND_COSTS;
  const stats: GateStats = { seen: 0, yes: 0, no: {}, decideMs: 0 };
  const sampler = createSampler(limiters, thresholds.yesAbove);
  const storageOf = storageByKind(kindCosts);
  /** The last YES decision (frozen): returned again while `lim` is the same object and the kind costs the same. */
  let lastYes: GateDecision | undefined;
  let lastYesStorage = false;

  const values = (intent?: ReceivedIntent): LimiterValues =>
    roundValues({
      economic: limiters.economic.value(intent),
      cpu: limiters.cpu.value(intent),
      memory: limiters.memory.value(intent),
      w_tracking: limiters.w_tracking.value(intent),
      objective: limiters.objective.value(intent),
      topology: limiters.topology.value(intent),
    });

  return {
    thresholds,
    kindCosts,
    limiters,
    values,
    intentSeen(intent) {
      stats.seen++;
      const now = clock.monotonic();
      limiters.w_tracking.record(now);
      limiters.objective.record(intent.envelope.subject, now);
    },
    decide(intent): GateDecision {
      const t0 = clock.monotonic();
      const lim = sampler.sample(intent, t0);
      const storage = storageOf(intent.envelope.kind);
      // The policy is pure in (values, thresholds, storage): the same frozen values that said YES
      // for a kind of the same cost say YES again (a NO is recomputed: its retry hint runs on time).
      if (lastYes !== undefined && lastYes.lim === lim && lastYesStorage === storage) {
        stats.yes++;
        stats.decideMs += clock.monotonic() - t0;
        return lastYes;
      }
      const verdict = runPolicy(limiters, thresholds, lim, t0, storage);
      if (verdict.r === 'yes') stats.yes++;
      else stats.no[verdict.reason] = (stats.no[verdict.reason] ?? 0) + 1;
      stats.decideMs += clock.monotonic() - t0;
      if (verdict !== YES_VERDICT) return { answer: verdict, lim, tight: sampler.tight() };
      lastYes = Object.freeze({ answer: verdict, lim, tight: sampler.tight() });
      lastYesStorage = storage;
      return lastYes;
    },
    stats: () => ({ ...stats, no: { ...stats.no } }),
  };
}

interface Sampler {
  /** The rounded values at `now`; the previous (frozen) object when nothing changed. */
  sample(intent: ReceivedIntent, now: number): LimiterValues;
  /** Whether the last sample has a value at or below `yesAbove` (computed once per values object). */
  tight(): boolean;
}

function createSampler(limiters: GateLimiters, yesAbove: number): Sampler {
  let lastLim: LimiterValues | undefined;
  let lastTight = false;
  return {
    sample(intent, now) {
      const economic = roundValue(limiters.economic.value(intent, now));
      const cpu = roundValue(limiters.cpu.value(intent, now));
      const memory = roundValue(limiters.memory.value(intent, now));
      const w_tracking = roundValue(limiters.w_tracking.value(intent, now));
      const objective = roundValue(limiters.objective.value(intent, now));
      const topology = roundValue(limiters.topology.value(intent, now));
      const l = lastLim;
      if (
        l !== undefined &&
        l.economic === economic &&
        l.cpu === cpu &&
        l.memory === memory &&
        l.w_tracking === w_tracking &&
        l.objective === objective &&
        l.topology === topology
      ) {
        return l;
      }
      lastLim = Object.freeze({ economic, cpu, memory, w_tracking, objective, topology });
      const y = yesAbove;
      lastTight = !(economic > y && cpu > y && memory > y && w_tracking > y && objective > y && topology > y);
      return lastLim;
    },
    tight: () => lastTight,
  };
}

/** kind → whether it consumes storage (`consumesStorage`), remembered for the kinds decided so far. */
function storageByKind(kindCosts: Readonly<Record<string, readonly KindCost[]>>): (kind: string) => boolean {
  const known = new Map<string, boolean>();
  return (kind) => {
    let storage = known.get(kind);
    if (storage === undefined) {
      storage = consumesStorage(kind, kindCosts);
      known.set(kind, storage); // served kinds only reach here: a handful
    }
    return storage;
  };
}

/** The pure policy on `lim`, with the retry hints of the rate and CPU limiters at `now`. */
function runPolicy(
  limiters: GateLimiters,
  thresholds: Readonly<Thresholds>,
  lim: LimiterValues,
  now: number,
  storage: boolean,
): ReturnType<typeof decide> {
  return decide(
    lim,
    thresholds,
    {
      // value > threshold ⇔ count < (1 − threshold) × capacity
      rateLimitedMs:
        lim.w_tracking < thresholds.rateLimitedBelow
          ? limiters.w_tracking.msUntilBelow(1 - thresholds.rateLimitedBelow, now)
          : undefined,
      cpuBusyMs: limiters.cpu.windowMs,
    },
    { storage },
  );
}
