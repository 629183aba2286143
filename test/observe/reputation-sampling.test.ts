import { describe, expect, it } from 'vitest';
import { createPrng } from '../../devices/sensors/index.js';
import {
  agrees,
  consensusInput,
  DEFAULT_MAX_WEIGHT_SHARE,
  MEDIAN_SE_PER_SD,
  perspectivesFrom,
  type ReputationState,
  replayConsensus,
  reputationOf,
  reputationView,
  samplingErrors,
} from '../../src/observe/index.js';
import type { Entry } from '../../src/series/types.js';

const CELL = 'u2edk8';
const TRUTH = 20;
const LIAR_BIAS = 8;
const ROUNDS = 3;

const obs = (value: number) => ({ cell: CELL, metric: 'temp', value, lat: 0, lon: 0, fix: 0, t: 0 });

interface Responder {
  node: string;
  liar: boolean;
  readings: number[];
}

/**
 * R survey rounds through the real pipeline (replies → perspectives → consensus entry → the
 * reputation fold), each entry weighted by the reputation before it, as a node does.
 */
function survey(
  responders: Responder[],
  rounds: number,
  perRound: (r: Responder, round: number) => number[],
  withSampling = true,
) {
  let state: ReputationState = reputationView.initial();
  const entries: Entry[] = [];
  const history: ReputationState[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const r of responders) r.readings.push(...perRound(r, round));
    const replies = responders.map((r) => ({ node: r.node, data: { cell: CELL, obs: r.readings.map(obs) } }));
    const group = perspectivesFrom(replies, CELL).groups[0];
    if (!group) throw new Error('no group');
    const input = consensusInput(CELL, 'temp', group.perspectives, state, entries.length, {
      method: 'median',
      maxShare: DEFAULT_MAX_WEIGHT_SHARE,
    });
    const entry = { ...input, seq: entries.length + 1, t: round } as Entry;
    if (!withSampling) {
      // An entry that does not say how many readings each value pools: judged on the spread alone.
      delete entry.readings;
      delete entry.reading_sd;
    }
    entries.push(entry);
    state = reputationView.apply(state, entry);
    history.push(structuredClone(state));
  }
  return { entries, history };
}

const separated = (s: ReputationState, rs: readonly Responder[]): boolean =>
  Math.max(...rs.filter((r) => r.liar).map((r) => reputationOf(s, r.node))) <
  Math.min(...rs.filter((r) => !r.liar).map((r) => reputationOf(s, r.node)));

describe('agreement against the responder’s own sampling noise', () => {
  it('the band is k × the larger of the consensus spread and the sampling error', () => {
    expect(agrees(10.9, 10, 0.1)).toBe(false);
    expect(agrees(10.89, 10, 0.1, 0.3)).toBe(true);
    expect(agrees(10.91, 10, 0.1, 0.3)).toBe(false);
  });

  it('sampling error: MEDIAN_SE_PER_SD × the median reading sd of the responders / √readings', () => {
    const entry = {
      seq: 1,
      t: 0,
      event: 'consensus',
      readings: { a: 1, b: 4, c: 16, d: 9 },
      reading_sd: { b: 1, c: 2, d: 3, liar: 500 },
    } as Entry;
    const se = samplingErrors(entry);
    // median of (1, 2, 3, 500) = 2.5: a node cannot widen its band by scattering its readings.
    expect(se('a')).toBeCloseTo(MEDIAN_SE_PER_SD * 2.5, 12);
    expect(se('c')).toBeCloseTo((MEDIAN_SE_PER_SD * 2.5) / 4, 12);
    expect(se('unknown')).toBe(0);
    expect(samplingErrors({ seq: 1, t: 0, event: 'consensus' })('a')).toBe(0);
  });

  it('perspectives and the consensus entry carry each responder’s reading count and sd; replay is unchanged', () => {
    const replies = [
      { node: 'a', data: { cell: CELL, obs: [obs(1), obs(3)] } },
      { node: 'b', data: { cell: CELL, obs: [obs(2)] } },
    ];
    const [group] = perspectivesFrom(replies, CELL).groups;
    expect(group?.perspectives).toEqual([
      { node: 'a', value: 2, readings: 2, readingSd: Math.SQRT2 },
      { node: 'b', value: 2, readings: 1 },
    ]);
    const input = consensusInput(CELL, 'temp', group?.perspectives ?? [], reputationView.initial(), 0, {
      method: 'median',
      maxShare: DEFAULT_MAX_WEIGHT_SHARE,
    });
    expect(input.readings).toEqual({ a: 2, b: 1 });
    expect(input.reading_sd).toEqual({ a: Math.SQRT2 });
    expect(replayConsensus([{ ...input, seq: 1, t: 0 } as Entry])[0]?.same).toBe(true);
  });

  it('an honest node whose first reading is noisy is not judged a liar among nodes pooling many readings', () => {
    // Six honest nodes pooling 40 readings each agree within ~0.2; the newcomer's single
    // reading is 2.5 σ off; liars carry a constant +8 with one reading each.
    const g = createPrng(7);
    const rs: Responder[] = [
      ...['h1', 'h2', 'h3', 'h4', 'h5'].map((node) => ({ node, liar: false, readings: [] as number[] })),
      { node: 'new', liar: false, readings: [] },
      ...['l1', 'l2', 'l3'].map((node) => ({ node, liar: true, readings: [] as number[] })),
    ];
    const { history, entries } = survey(rs, ROUNDS, (r, round) => {
      if (r.node === 'new') return [round === 1 ? TRUTH + 2.5 : TRUTH + g.gaussian()];
      const n = r.liar ? 1 : 40;
      return Array.from({ length: n }, () => TRUTH + (r.liar ? LIAR_BIAS : 0) + g.gaussian());
    });
    const first = entries[0] as Entry;
    // Judged on the spread alone it would be marked: the spread is too tight for one reading.
    expect(
      agrees((first.values as Record<string, number>).new as number, first.value as number, first.spread as number),
    ).toBe(false);
    expect(reputationOf(history[0] as ReputationState, 'new')).toBe(1);
    for (const s of history) expect(separated(s, rs)).toBe(true);
  });

  it(`over many seeds, liars at a constant bias fall below every honest node within ${ROUNDS} rounds`, () => {
    // The spread of values that pool many readings is far tighter than a newcomer's own noise.
    const run = (withSampling: boolean) => {
      let late = 0;
      let liarAgreed = 0;
      for (let seed = 1; seed <= 200; seed++) {
        const g = createPrng(seed);
        const rs: Responder[] = Array.from({ length: 10 }, (_, i) => ({
          node: `n${i}`,
          liar: i < 3,
          readings: [] as number[],
        }));
        // Liars send 1 to 3 readings a round; n3 just joined (one a round); the others have been
        // up a while (20 to 64 readings at the first round, a few more each round).
        const { history } = survey(
          rs,
          ROUNDS,
          (r, round) => {
            const i = Number(r.node.slice(1));
            const bias = r.liar ? LIAR_BIAS : 0;
            const n = i < 3 ? 1 + i : i === 3 ? 1 : round === 1 ? 20 + ((seed * i) % 45) : 3;
            return Array.from({ length: n }, () => TRUTH + bias + g.gaussian());
          },
          withSampling,
        );
        if (!separated(history[ROUNDS - 1] as ReputationState, rs)) late++;
        const last = history[ROUNDS - 1] as ReputationState;
        for (const r of rs.filter((x) => x.liar)) liarAgreed += last.nodes[r.node]?.pos ?? 0;
      }
      return { late, liarAgreed };
    };
    const judged = run(true);
    const spreadOnly = run(false);
    expect(judged).toEqual({ late: 0, liarAgreed: 0 });
    // The same rounds judged on the spread alone leave the newcomer tied with the liars at 0.
    expect(spreadOnly.late).toBeGreaterThan(0);
  });
});
