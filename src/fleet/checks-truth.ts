/**
 * Truth and reputation, judged on one surveying mapper's series: every trusted `consensus` entry
 * of a cell with a known ground truth gives the error of each method against it (the recorded
 * robust median, the reputation-weighted mean, the plain mean and the plain median of the same
 * perspectives), and the reputation this mapper held after each round, folded from its own series
 * as the node folds it: the round at which every liar in the cell ranked below every honest node.
 */
import { plainMean, plainMedian, reputationOf, reputationView } from '../observe/index.js';
import type { Entry } from '../series/index.js';

export const METHODS = ['median', 'weightedMean', 'plainMean', 'plainMedian'] as const;
export type Method = (typeof METHODS)[number];

/** One consensus judged against the truth. */
export interface TruthSample {
  cell: string;
  /** 1 for the surveyor's first consensus of the cell. */
  round: number;
  errors: Record<Method, number>;
  liars: number;
  responders: number;
}

/** The reputations one surveyor held after one round of one cell. */
export interface ReputationSample {
  surveyor: string;
  cell: string;
  round: number;
  liars: number[];
  honest: number[];
}

export interface TruthContext {
  truth: Readonly<Record<string, number>>;
  /** Liars and copiers. */
  liars: ReadonlySet<string>;
  /** Nodes that answer truthfully (honest and slow). */
  honest: ReadonlySet<string>;
  runStartMs: number;
}

/** Folds one mapper's entries (seq order) into truth and reputation samples. */
export function judgeSurveyor(
  surveyor: string,
  entries: Iterable<Entry>,
  ctx: TruthContext,
  out: { truth: TruthSample[]; reputation: ReputationSample[] },
): void {
  let rep = reputationView.initial();
  const rounds = new Map<string, number>();
  for (const e of entries) {
    // The consensus is weighted by the reputation before its own evidence: judge it first.
    if (e.event === 'consensus' && e.t >= ctx.runStartMs && e.low_confidence !== true) {
      const cell = String(e.cell);
      const truth = ctx.truth[cell];
      const values = (e.values ?? {}) as Record<string, number>;
      if (truth !== undefined && typeof e.value === 'number') {
        const round = (rounds.get(cell) ?? 0) + 1;
        rounds.set(cell, round);
        out.truth.push(sample(cell, round, e.value, truth, values, (e.weights ?? {}) as Record<string, number>, ctx));
        rep = reputationView.apply(rep, e);
        const nodes = Object.keys(values);
        out.reputation.push({
          surveyor,
          cell,
          round,
          liars: nodes.filter((n) => ctx.liars.has(n)).map((n) => reputationOf(rep, n)),
          honest: nodes.filter((n) => ctx.honest.has(n)).map((n) => reputationOf(rep, n)),
        });
        continue;
      }
    }
    rep = reputationView.apply(rep, e);
  }
}

function sample(
  cell: string,
  round: number,
  value: number,
  truth: number,
  values: Record<string, number>,
  weights: Record<string, number>,
  ctx: TruthContext,
): TruthSample {
  const nodes = Object.keys(values);
  const vs = nodes.map((n) => values[n] as number);
  let wSum = 0;
  let wMean = 0;
  for (const n of nodes) {
    const w = weights[n] ?? 0;
    wSum += w;
    wMean += w * (values[n] as number);
  }
  const weighted = wSum > 0 ? wMean / wSum : plainMean(vs);
  return {
    cell,
    round,
    errors: {
      median: Math.abs(value - truth),
      weightedMean: Math.abs(weighted - truth),
      plainMean: Math.abs(plainMean(vs) - truth),
      plainMedian: Math.abs(plainMedian(vs) - truth),
    },
    liars: nodes.filter((n) => ctx.liars.has(n)).length,
    responders: nodes.length,
  };
}

/**
 * Liars hold at least half of the perspectives: the consensus follows them and no reputation built
 * on agreement with it can rank them below the honest nodes. Not expected to hold (docs/operations.md).
 */
export function liarMajority(liars: number, responders: number): boolean {
  return liars > 0 && liars * 2 >= responders;
}

/**
 * For each surveyor and cell with both liars and honest responders: the first round at which every
 * liar ranked below every honest node (undefined: never), how many rounds there were, and whether
 * liars held a majority of the responders (`majority`: such rounds are not judged).
 */
export function separationRounds(
  samples: readonly ReputationSample[],
): Map<string, { round?: number; rounds: number; majority?: true }> {
  const out = new Map<string, { round?: number; rounds: number; majority?: true }>();
  for (const s of samples) {
    if (s.liars.length === 0 || s.honest.length === 0) continue;
    const key = `${s.surveyor}/${s.cell}`;
    const x = out.get(key) ?? { rounds: 0 };
    x.rounds = Math.max(x.rounds, s.round);
    if (liarMajority(s.liars.length, s.liars.length + s.honest.length)) x.majority = true;
    else if (x.round === undefined && Math.max(...s.liars) < Math.min(...s.honest)) x.round = s.round;
    out.set(key, x);
  }
  return out;
}
