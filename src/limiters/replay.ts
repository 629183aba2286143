/**
 * Replay: run the recorded limiter values of every decision in the series through the policy again
 * and check the recorded answers. This is how a node explains (and audits) every NO it gave.
 *
 * A decision entry is any entry carrying `lim`. The answer side writes `decision` entries
 * (`{event:'decision', id, kind, from, r, reason?, lim, outcome}`) where `r`/`reason` are the
 * gate's verdict: those must match the replayed verdict exactly. For any other entry with `lim`
 * (a final answer, where a handler may have said NO `too_large` after the gate's YES) the rule is:
 *   policy says NO reason R (a limiter reason)  ⇔  the entry recorded NO with reason R.
 * `limiter_config` entries (written at node start with the thresholds in force) switch the
 * thresholds used for the entries after them, so a profile change between runs replays exactly;
 * their `kindCosts` (when present) switch the kind cost table the same way. The storage check
 * applies per the entry's `kind` (`consumesStorage`); an entry without `kind` keeps it.
 * Streams the entries: memory is bounded by `maxMismatches` kept.
 */

import type { LimiterValues, NoReason } from '../protocol/index.js';
import { type Entry, type Series, SNAPSHOT_EVENT } from '../series/index.js';
import { DECISION_EVENT, DEFAULT_KIND_COSTS, type KindCost, LIMITER_CONFIG_EVENT, LIMITERS_VIEW } from './constants.js';
import { consumesStorage, DEFAULT_THRESHOLDS, decide, type Thresholds } from './policy.js';
import { LIMITER_NAMES } from './types.js';

/** The NO reasons the limiters give (other reasons come from handlers). */
export const LIMITER_REASONS: readonly NoReason[] = ['storage_full', 'memory_low', 'rate_limited', 'cpu_busy'];

export interface ReplayMismatch {
  seq: number;
  event: string;
  recorded: { r: unknown; reason?: unknown };
  replayed: { r: 'yes' } | { r: 'no'; reason: NoReason };
  lim: LimiterValues;
}

export interface ReplayReport {
  /** Decision entries checked. */
  decisions: number;
  /** Of those, limiter NOs reproduced. */
  limiterNo: number;
  matched: number;
  mismatches: ReplayMismatch[];
  /** Entries with a malformed `lim` (skipped, counted). */
  malformed: number;
}

export interface ReplayOptions {
  /** Thresholds before the first `limiter_config` entry. Default the paradigm's. */
  thresholds?: Thresholds;
  /** Kind cost table before the first `limiter_config` with one. Default `DEFAULT_KIND_COSTS`. */
  kindCosts?: Readonly<Record<string, readonly KindCost[]>>;
  /** Most mismatches kept in the report (the rest are counted). Default 100. */
  maxMismatches?: number;
}

export async function replayDecisions(
  entries: AsyncIterable<Entry> | Iterable<Entry>,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  let thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  let kindCosts = options.kindCosts ?? DEFAULT_KIND_COSTS;
  const maxMismatches = options.maxMismatches ?? 100;
  const report: ReplayReport = { decisions: 0, limiterNo: 0, matched: 0, mismatches: [], malformed: 0 };
  for await (const entry of entries) {
    if (entry.event === LIMITER_CONFIG_EVENT && isThresholds(entry.thresholds)) {
      thresholds = entry.thresholds;
      if (isKindCosts(entry.kindCosts)) kindCosts = entry.kindCosts;
      continue;
    }
    if (entry.event === SNAPSHOT_EVENT) {
      // Every segment opens with a snapshot of the views: after ring eviction dropped the
      // `limiter_config` entry, the `limiters` view in it still says which thresholds were in force.
      const cfg = snapshotThresholds(entry);
      if (cfg !== undefined) thresholds = cfg;
      continue;
    }
    if (entry.lim === undefined) continue;
    if (!isLimiterValues(entry.lim)) {
      report.malformed++;
      continue;
    }
    report.decisions++;
    const verdict = decide(entry.lim, thresholds, {}, { storage: consumesStorage(entry.kind, kindCosts) });
    const recordedLimiterNo = entry.r === 'no' && LIMITER_REASONS.includes(entry.reason as NoReason);
    // A `decision` entry records the gate's own verdict (`r`, `reason`): it must match exactly.
    // Other entries with `lim` may record the final answer: a handler's NO is not a mismatch.
    const ok =
      verdict.r === 'no'
        ? entry.r === 'no' && entry.reason === verdict.reason
        : entry.event === DECISION_EVENT
          ? entry.r === 'yes' && entry.reason === undefined
          : !recordedLimiterNo;
    if (verdict.r === 'no') report.limiterNo++;
    if (ok) report.matched++;
    else if (report.mismatches.length < maxMismatches) {
      report.mismatches.push({
        seq: entry.seq,
        event: entry.event,
        recorded: { r: entry.r, reason: entry.reason },
        replayed: verdict.r === 'no' ? { r: 'no', reason: verdict.reason } : { r: 'yes' },
        lim: entry.lim,
      });
    }
  }
  return report;
}

/** Replay every decision still in `series` (streamed; decisions, configs and snapshots only). */
export function replaySeries(series: Pick<Series, 'read'>, options: ReplayOptions = {}): Promise<ReplayReport> {
  return replayDecisions(series.read({ event: [DECISION_EVENT, LIMITER_CONFIG_EVENT, SNAPSHOT_EVENT] }), options);
}

function snapshotThresholds(entry: Entry): Thresholds | undefined {
  const views = entry.views as Record<string, unknown> | undefined;
  const view = views?.[LIMITERS_VIEW] as { config?: { thresholds?: unknown } | null } | undefined;
  const t = view?.config?.thresholds;
  return isThresholds(t) ? t : undefined;
}

export function isLimiterValues(x: unknown): x is LimiterValues {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  // A loop, not `every` with a closure: this runs for every decision folded into the view.
  for (const k of LIMITER_NAMES) {
    const v = o[k];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) return false;
  }
  return true;
}

function isKindCosts(x: unknown): x is Record<string, KindCost[]> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  return Object.values(x).every((v) => Array.isArray(v) && v.every((c) => c === 'storage'));
}

function isThresholds(x: unknown): x is Thresholds {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return (Object.keys(DEFAULT_THRESHOLDS) as (keyof Thresholds)[]).every((k) => typeof o[k] === 'number');
}
