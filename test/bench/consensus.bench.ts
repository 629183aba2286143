/**
 * `npm run bench:consensus`: one JSON object on stdout.
 *
 * 1. Accuracy: 20 mappers with simulated sensors (noise sd 1, median of 5 readings per cell),
 *    0 / 10 / 25 / 40 % liars biased by +10, 50 cells per round, 10 rounds. For each method the
 *    requester weights by the reputation it derives from ITS OWN consensus entries (the node as
 *    configured with that method), folding the reputation view after every entry. Mean absolute
 *    error against ground truth per round; unweighted plain median and plain mean as baselines.
 * 2. Speed: time to derive consensus for one cell with 100 responders (weighted median with share
 *    cap, weighted mean) against a plain median / plain mean of the same values, same run; and the
 *    whole path from 100 YES replies (5 observations each, schema-checked) to the consensus entry.
 */
import { createPrng } from '../../devices/sensors/index.js';
import {
  type ConsensusMethod,
  consensus,
  consensusInput,
  DEFAULT_MAX_WEIGHT_SHARE,
  perspectivesFrom,
  plainMean,
  plainMedian,
  reputationOf,
  reputationView,
} from '../../src/observe/index.js';
import type { Entry } from '../../src/series/types.js';
import { createSimField } from '../helpers/observe-field.js';

const MAPPERS = 20;
const ROUNDS = 10;
const CELLS = 50;
const FRACTIONS = [0, 0.1, 0.25, 0.4];

interface Rep {
  liars_max: number | null;
  honest_min: number;
}
interface Row {
  median: number[];
  mean: number[];
  plain_median: number[];
  plain_mean: number[];
  /** Weighted mean, weighted by the reputation learned from the median method's consensus. */
  mean_with_median_rep: number[];
  /** Reputation after the last round, learned from the median method's consensus. */
  rep: Rep;
  /** The same, learned from the mean method's own consensus. */
  rep_mean_method: Rep;
}

function accuracy(fraction: number): Row {
  const liars = Math.round(MAPPERS * fraction);
  const run = (method: ConsensusMethod) => {
    // Same seed for every method: each sees the very same readings.
    const field = createSimField({ mappers: MAPPERS, liars, seed: 11 });
    const cells = field.cells(CELLS);
    let rep = reputationView.initial();
    let seq = 0;
    const err: number[] = [];
    const plainMed: number[] = [];
    const plainAvg: number[] = [];
    const meanMedRep: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // A round asks every cell with the reputation as of the round's start, then folds the
      // round's consensus entries: round 1 is a requester with no history at all.
      const repSeq = seq;
      const entries: Entry[] = [];
      let e = 0;
      let pm = 0;
      let pa = 0;
      let mm = 0;
      for (const cell of cells) {
        const ps = field.perspectives(cell);
        const truth = field.truth(cell);
        const input = consensusInput(cell, 'v', ps, rep, repSeq, { method, maxShare: DEFAULT_MAX_WEIGHT_SHARE });
        entries.push({ ...input, seq: ++seq, t: 0 } as Entry);
        e += Math.abs(input.value - truth);
        pm += Math.abs(plainMedian(ps.map((p) => p.value)) - truth);
        pa += Math.abs(plainMean(ps.map((p) => p.value)) - truth);
        // The paradigm's weighted mean, weighted by this run's reputation.
        mm += Math.abs(consensus(ps, (n) => reputationOf(rep, n), { method: 'mean' }).value - truth);
      }
      for (const x of entries) rep = reputationView.apply(rep, x);
      err.push(round(e / cells.length));
      plainMed.push(round(pm / cells.length));
      plainAvg.push(round(pa / cells.length));
      meanMedRep.push(round(mm / cells.length));
    }
    const scores = field.ids.map((id) => ({ liar: field.liars.has(id), s: reputationOf(rep, id) }));
    const of = (liar: boolean) => scores.filter((x) => x.liar === liar).map((x) => x.s);
    return {
      err,
      plainMed,
      plainAvg,
      meanMedRep,
      rep: {
        liars_max: of(true).length ? round(Math.max(...of(true))) : null,
        honest_min: round(Math.min(...of(false))),
      },
    };
  };
  const median = run('median');
  const mean = run('mean');
  return {
    median: median.err,
    mean: mean.err,
    plain_median: median.plainMed,
    plain_mean: median.plainAvg,
    mean_with_median_rep: median.meanMedRep,
    rep: median.rep,
    rep_mean_method: mean.rep,
  };
}

function round(x: number, d = 4): number {
  const k = 10 ** d;
  return Math.round(x * k) / k;
}

/** Median over batches of the per-call time, µs. */
function time(fn: () => unknown, calls: number, batches = 15): number {
  for (let i = 0; i < calls; i++) fn(); // warm-up
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) fn();
    per.push(((performance.now() - t0) * 1000) / calls);
  }
  return round(plainMedian(per), 3);
}

function speed() {
  const prng = createPrng(5);
  const n = 100;
  const ps = Array.from({ length: n }, (_, i) => ({
    node: `n${String(i).padStart(3, '0')}`,
    value: 20 + prng.gaussian() + (i % 5 === 0 ? 10 : 0),
  }));
  const values = ps.map((p) => p.value);
  const reps = new Map(ps.map((p, i) => [p.node, i % 5 === 0 ? 0.1 : 0.6 + 0.4 * prng.next()]));
  const weightOf = (node: string) => reps.get(node) ?? 0.5;
  let repState = reputationView.initial();
  for (const [node, s] of reps) repState.nodes[node] = { pos: s * 10, neg: (1 - s) * 10 };
  const replies = ps.map((p) => ({
    node: p.node,
    data: {
      cell: 'u2edk8g',
      obs: Array.from({ length: 5 }, (_, k) => ({
        cell: 'u2edk8g',
        metric: 'temp',
        value: p.value + k * 0.01,
        lat: 48.2,
        lon: 16.37,
        fix: 1,
        t: 0,
      })),
    },
  }));
  const calls = 4000;
  const weightedMedian = time(() => consensus(ps, weightOf, { method: 'median' }), calls);
  const weightedMean = time(() => consensus(ps, weightOf, { method: 'mean' }), calls);
  const plainMed = time(() => plainMedian(values), calls);
  const plainAvg = time(() => plainMean(values), calls);
  const pipeline = time(() => {
    const { groups } = perspectivesFrom(replies, 'u2edk8g');
    return consensusInput('u2edk8g', 'temp', groups[0]?.perspectives ?? [], repState, 0, {
      method: 'median',
      maxShare: 0.2,
    });
  }, 300);
  repState = reputationView.initial();
  return {
    responders: n,
    weighted_median_us: weightedMedian,
    plain_median_us: plainMed,
    ratio_median: round(weightedMedian / plainMed, 2),
    weighted_mean_us: weightedMean,
    plain_mean_us: plainAvg,
    ratio_mean: round(weightedMean / plainAvg, 2),
    replies_to_entry_us: pipeline,
  };
}

const t0 = performance.now();
const accuracyResults: Record<string, Row> = {};
for (const f of FRACTIONS) accuracyResults[`${Math.round(f * 100)}%`] = accuracy(f);
const result = {
  bench: 'consensus',
  node: process.version,
  setup: {
    mappers: MAPPERS,
    rounds: ROUNDS,
    cells_per_round: CELLS,
    liar_bias: 10,
    noise_sd: 1,
    readings_per_cell: 5,
    max_share: DEFAULT_MAX_WEIGHT_SHARE,
  },
  accuracy_mae: accuracyResults,
  speed: speed(),
  elapsed_s: 0,
};
result.elapsed_s = round((performance.now() - t0) / 1000, 1);
process.stdout.write(`${JSON.stringify(result)}\n`);
