/**
 * `limiters` view: the limiter history a node derives from its series (limiter windows
 * are derived views, written into snapshots so they survive ring eviction). It keeps what must
 * survive a restart and eviction, bounded:
 * - the thresholds in force (last `limiter_config`), so an old decision can be explained;
 * - decision tallies (YES, NO by reason) and the last decision with its `lim`;
 * - the last `RECENT_NO_KEPT` limiter NOs (seq, reason) — the "why did it refuse" trail.
 *
 * The live `w_tracking` window is NOT rebuilt from it (see `w-tracking.ts`): a restart already
 * pauses answering for longer than the window, and restoring it would need one entry per received
 * intent. The live `economic` value needs no view: it reads series and chunk-store bytes directly.
 */
import type { LimiterValues } from '../protocol/index.js';
import type { View } from '../series/index.js';
import { DECISION_EVENT, LIMITER_CONFIG_EVENT, LIMITERS_VIEW } from './constants.js';
import { isLimiterValues } from './replay.js';

/** Bound of the recent-NO trail kept in the view (and in every snapshot). */
export const RECENT_NO_KEPT = 32;

export interface LimiterTally {
  decisions: number;
  yes: number;
  /** NO count per reason. */
  no: Record<string, number>;
  /** `lim` may be the gate's frozen object, shared with other decisions: read-only. */
  last: { seq: number; r: string; reason?: string; lim: Readonly<LimiterValues> } | null;
  config: { seq: number; board: string; thresholds: Record<string, number>; device?: DetectedDeviceRecord } | null;
  /** Newest last; at most `RECENT_NO_KEPT`. */
  recentNo: { seq: number; reason: string }[];
}

/** What `--device auto` found, as the `limiter_config` entry records it. */
export interface DetectedDeviceRecord {
  /** The device-tree model string, null on a machine without one. */
  model: string | null;
  ramBytes: number;
  /** The memory budget after scaling to `ramBytes`. */
  memoryBudgetBytes: number;
}

function deviceRecord(entry: Record<string, unknown>): { device?: DetectedDeviceRecord } {
  const { model, ramBytes, memoryBudgetBytes } = entry;
  if (typeof ramBytes !== 'number' || typeof memoryBudgetBytes !== 'number') return {};
  return { device: { model: typeof model === 'string' ? model : null, ramBytes, memoryBudgetBytes } };
}

export const limitersView: View<LimiterTally> = {
  name: LIMITERS_VIEW,
  events: [DECISION_EVENT, LIMITER_CONFIG_EVENT],
  initial: () => ({ decisions: 0, yes: 0, no: {}, last: null, config: null, recentNo: [] }),
  apply(state, entry) {
    if (entry.event === LIMITER_CONFIG_EVENT) {
      const thresholds = entry.thresholds;
      if (typeof thresholds !== 'object' || thresholds === null) return state;
      return {
        ...state,
        config: {
          seq: entry.seq,
          board: String(entry.board),
          thresholds: { ...(thresholds as Record<string, number>) },
          ...deviceRecord(entry),
        },
      };
    }
    if (entry.event !== DECISION_EVENT || !isLimiterValues(entry.lim)) return state;
    const r = String(entry.r);
    const reason = typeof entry.reason === 'string' ? entry.reason : undefined;
    // A decision is written per intent answered: the series-owned tally is updated in place (same
    // result as copying it; new keys still go last) rather than copied on every decision.
    state.decisions += 1;
    // The gate's `lim` is frozen and shared between decisions: keep it; copy anything else.
    const lim = Object.isFrozen(entry.lim) ? entry.lim : { ...entry.lim };
    state.last = reason !== undefined ? { seq: entry.seq, r, reason, lim } : { seq: entry.seq, r, lim };
    if (r === 'yes') state.yes += 1;
    else if (reason !== undefined) {
      // `__proto__` by plain assignment would set the prototype: copy for that key.
      if (reason === '__proto__') state.no = { ...state.no, [reason]: (state.no[reason] ?? 0) + 1 };
      else state.no[reason] = (state.no[reason] ?? 0) + 1;
      state.recentNo.push({ seq: entry.seq, reason });
      if (state.recentNo.length > RECENT_NO_KEPT) state.recentNo.splice(0, state.recentNo.length - RECENT_NO_KEPT);
    }
    return state;
  },
};
