import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  capWeights,
  consensus,
  DEFAULT_CONSENSUS_METHOD,
  DEFAULT_MAX_WEIGHT_SHARE,
  plainMedian,
  weightedMedian,
} from '../../src/observe/index.js';

const p = (pairs: [string, number][]) => pairs.map(([node, value]) => ({ node, value }));

describe('weightedMedian', () => {
  it('equals the plain median with equal weights, odd and even', () => {
    expect(weightedMedian([3, 1, 2], [1, 1, 1])).toBe(2);
    expect(weightedMedian([4, 1, 3, 2], [1, 1, 1, 1])).toBe(2.5);
  });
  it('follows the weight', () => {
    expect(weightedMedian([1, 2, 100], [0.1, 0.1, 0.8])).toBe(100);
    expect(weightedMedian([1, 2, 100], [0.45, 0.45, 0.1])).toBe(2);
  });
  it('matches plainMedian under equal weights for any list', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }), (xs) => {
        expect(
          weightedMedian(
            xs,
            xs.map(() => 1),
          ),
        ).toBeCloseTo(plainMedian(xs), 6);
      }),
    );
  });
});

describe('capWeights', () => {
  it('no weight exceeds the share of the total, order is kept, small weights untouched', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (raw, share) => {
          const w = capWeights(raw, share);
          const total = w.reduce((s, x) => s + x, 0);
          const eff = Math.max(share, 1 / Math.max(1, raw.filter((x) => x > 0).length));
          if (total > 0) for (const x of w) expect(x).toBeLessThanOrEqual(eff * total * (1 + 1e-9) + 1e-12);
          for (let i = 0; i < raw.length; i++) {
            expect(w[i]).toBeLessThanOrEqual((raw[i] as number) + 1e-9);
            for (let j = 0; j < raw.length; j++) {
              if ((raw[i] as number) <= (raw[j] as number)) expect(w[i]).toBeLessThanOrEqual((w[j] as number) + 1e-9);
            }
          }
        },
      ),
    );
  });
  it('fewer weights above 0 than 1/share: they share the total, none is lost (no 0/0 weights)', () => {
    const w = capWeights([0, 0, 0, 1, 1, 1, 1], 0.2);
    expect(w).toEqual([0, 0, 0, 1, 1, 1, 1]);
    const r = consensus(
      p([
        ['liar', 26.5],
        ['x', 18.4],
        ['y', 18.5],
        ['a', 18.6],
        ['b', 18.6],
        ['c', 18.7],
        ['d', 18.7],
      ]),
      (n) => (['a', 'b', 'c', 'd'].includes(n) ? 1 : 0),
    );
    expect(Object.values(r.weights).every(Number.isFinite)).toBe(true);
    expect(r.value).toBeCloseTo(18.65, 9); // the median of a..d, never the zero-weight liar's 26.5
  });
  it('one dominant node is held to the cap', () => {
    const w = capWeights([100, 1, 1, 1, 1, 1, 1, 1, 1, 1], 0.2);
    const total = w.reduce((s, x) => s + x, 0);
    expect((w[0] as number) / total).toBeCloseTo(0.2, 9);
    expect(w[1]).toBe(1);
  });
});

describe('consensus', () => {
  it('defaults: robust median, share cap 0.2 (documented constants)', () => {
    expect(DEFAULT_CONSENSUS_METHOD).toBe('median');
    expect(DEFAULT_MAX_WEIGHT_SHARE).toBe(0.2);
    const r = consensus(
      p([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]),
      () => 0.5,
    );
    expect(r.method).toBe('median');
  });

  it('weighted mean and median, with spread, responders and normalised weights', () => {
    const ps = p([
      ['a', 10],
      ['b', 12],
      ['c', 14],
      ['d', 100],
    ]);
    const rep = (n: string) => (n === 'd' ? 0 : 1);
    const mean = consensus(ps, rep, { method: 'mean', maxShare: 1 });
    expect(mean.value).toBeCloseTo(12, 9);
    expect(mean.spread).toBeCloseTo(Math.sqrt(8 / 3), 9);
    expect(mean.weights).toEqual({ a: 1 / 3, b: 1 / 3, c: 1 / 3, d: 0 });
    const med = consensus(ps, () => 1, { method: 'median' });
    expect(med.value).toBe(13); // midpoint of 12 and 14 with equal weights
    expect(med.responders).toEqual(['a', 'b', 'c', 'd']);
    expect(med.spread).toBeCloseTo(1.4826 * 2, 9);
  });

  it('all weights 0: equal weights, recorded, no NaN', () => {
    const r = consensus(
      p([
        ['a', 1],
        ['b', 3],
      ]),
      () => 0,
      { method: 'mean' },
    );
    expect(r.value).toBe(2);
    expect(r.fallback).toBe('equal');
    expect(Object.values(r.weights)).toEqual([0.5, 0.5]);
    const nan = consensus(p([['a', 1]]), () => Number.NaN);
    expect(nan.value).toBe(1);
  });

  it('the cap stops one trusted node from deciding alone', () => {
    const ps = p([['big', 50], ...Array.from({ length: 9 }, (_, i): [string, number] => [`h${i}`, 10])]);
    const weightOf = (n: string) => (n === 'big' ? 1 : 0.01);
    expect(consensus(ps, weightOf, { method: 'median', maxShare: 1 }).value).toBe(50);
    expect(consensus(ps, weightOf, { method: 'median', maxShare: 0.2 }).value).toBe(10);
  });

  it('throws on no perspectives (the caller writes no consensus)', () => {
    expect(() => consensus([], () => 1)).toThrow(RangeError);
  });
});
