/**
 * Consensus of one cell and one metric from many perspectives (pure, no I/O).
 *
 * - `mean`: the paradigm's reputation-weighted mean; spread = weighted standard deviation.
 * - `median` (default): a robust reputation-weighted median; spread = weighted MAD × 1.4826
 *   (a standard-deviation estimate for normal noise that liars cannot inflate while they hold
 *   under half the weight).
 * Weights are reputations, capped so that no one responder holds more than `maxShare` of the total
 * (the cap is raised to 1/n when there are fewer than 1/maxShare responders). When every weight is
 * 0 (or not finite), all responders get equal weight and `fallback: 'equal'` is recorded: a
 * consensus is always defined and nothing divides by zero.
 */
import { DEFAULT_CONSENSUS_METHOD, DEFAULT_MAX_WEIGHT_SHARE, MAD_TO_SD } from './constants.js';

export type ConsensusMethod = 'median' | 'mean';

export interface Perspective {
  node: string;
  value: number;
  /** How many readings `value` reduces (the responder's sampling noise shrinks with it), count. */
  readings?: number;
  /** Standard deviation of those readings, metric unit; absent with fewer than two. */
  readingSd?: number;
}

export interface ConsensusOptions {
  /** Default `median`. */
  method?: ConsensusMethod;
  /** Largest share of the weight one responder may hold, in (0,1]. Default `DEFAULT_MAX_WEIGHT_SHARE` (0.2). */
  maxShare?: number;
}

export interface ConsensusResult {
  value: number;
  spread: number;
  method: ConsensusMethod;
  /** Responders in input order (sorted by node id by callers that want determinism). */
  responders: string[];
  /** Normalised weights used (sum 1), by node id. */
  weights: Record<string, number>;
  /** Present when every raw weight was 0 and equal weights were used instead. */
  fallback?: 'equal';
}

/**
 * Clip weights so that none exceeds `maxShare` of the (clipped) total: water-filling. The clipped
 * ones all end equal to c with c = share · (k·c + free), i.e. c = share·free / (1 − share·k).
 * `maxShare` is raised to 1/m (m = the weights above 0) so that a solution exists.
 */
export function capWeights(raw: readonly number[], maxShare: number): number[] {
  const n = raw.length;
  // Only weights above 0 can share the total: with fewer of them than 1/maxShare, the cap is
  // raised to 1/(their count), else clipping them all would leave a total of 0 (NaN weights).
  const positive = raw.filter((w) => w > 0).length;
  const share = Math.max(maxShare, 1 / Math.max(1, positive));
  if (share >= 1) return raw.slice();
  const clipped = new Array<boolean>(n).fill(false);
  let c = Number.POSITIVE_INFINITY;
  for (let round = 0; round <= n; round++) {
    let k = 0;
    let free = 0;
    for (let i = 0; i < n; i++) {
      if (clipped[i]) k++;
      else free += raw[i] as number;
    }
    c = k === 0 ? Number.POSITIVE_INFINITY : (share * free) / Math.max(1e-300, 1 - share * k);
    const total = k === 0 ? free : k * c + free;
    let changed = false;
    for (let i = 0; i < n; i++) {
      if (!clipped[i] && (raw[i] as number) > share * total * (1 + 1e-12)) {
        clipped[i] = true;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return raw.map((w, i) => (clipped[i] ? c : w));
}

/** Weighted median of values with positive weights summing to `total`; midpoint on an exact half. */
export function weightedMedian(values: readonly number[], weights: readonly number[]): number {
  const idx = values.map((_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  let total = 0;
  for (const w of weights) total += w;
  const half = total / 2;
  let acc = 0;
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j] as number;
    acc += weights[i] as number;
    if (acc > half * (1 + 1e-12)) return values[i] as number;
    if (Math.abs(acc - half) <= half * 1e-12) {
      // Exactly half below: the midpoint with the next value that carries weight.
      for (let m = j + 1; m < idx.length; m++) {
        const next = idx[m] as number;
        if ((weights[next] as number) > 0) return ((values[i] as number) + (values[next] as number)) / 2;
      }
      return values[i] as number;
    }
  }
  return values[idx[idx.length - 1] as number] as number;
}

/**
 * Consensus of `perspectives` with weights from `weightOf` (a reputation in [0,1]).
 * Throws on an empty list: the caller writes no consensus for a cell nobody answered.
 */
export function consensus(
  perspectives: readonly Perspective[],
  weightOf: (node: string) => number,
  options: ConsensusOptions = {},
): ConsensusResult {
  const method = options.method ?? DEFAULT_CONSENSUS_METHOD;
  const n = perspectives.length;
  if (n === 0) throw new RangeError('consensus of no perspectives');
  const values = perspectives.map((p) => p.value);
  let raw = perspectives.map((p) => {
    const w = weightOf(p.node);
    return Number.isFinite(w) && w > 0 ? w : 0;
  });
  let fallback: 'equal' | undefined;
  if (raw.every((w) => w === 0)) {
    raw = raw.map(() => 1);
    fallback = 'equal';
  }
  const capped = capWeights(raw, options.maxShare ?? DEFAULT_MAX_WEIGHT_SHARE);
  let total = 0;
  for (const w of capped) total += w;
  const weights = capped.map((w) => w / total);

  let value: number;
  let spread: number;
  if (method === 'mean') {
    value = 0;
    for (let i = 0; i < n; i++) value += (weights[i] as number) * (values[i] as number);
    let v = 0;
    for (let i = 0; i < n; i++) v += (weights[i] as number) * ((values[i] as number) - value) ** 2;
    spread = Math.sqrt(v);
  } else {
    value = weightedMedian(values, weights);
    spread =
      MAD_TO_SD *
      weightedMedian(
        values.map((x) => Math.abs(x - value)),
        weights,
      );
  }
  const byNode: Record<string, number> = {};
  perspectives.forEach((p, i) => {
    byNode[p.node] = (byNode[p.node] ?? 0) + (weights[i] as number);
  });
  const result: ConsensusResult = {
    value,
    spread,
    method,
    responders: perspectives.map((p) => p.node),
    weights: byNode,
  };
  if (fallback) result.fallback = fallback;
  return result;
}

/** Plain (unweighted) median, the baseline the benchmark compares against. */
export function plainMedian(values: readonly number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Plain (unweighted) mean. */
export function plainMean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}
