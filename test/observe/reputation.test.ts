import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  agrees,
  DEFAULT_AGREE_K,
  DEFAULT_AGREE_MIN_RESPONDERS,
  MAX_REPUTATION_NODES,
  REP_HASH_MISMATCH_WEIGHT,
  REP_MALFORMED_WEIGHT,
  REP_PRIOR,
  REP_SILENCE_WEIGHT,
  REPUTATION_VIEW,
  type ReputationState,
  replayReputation,
  reputationOf,
  reputationScores,
  reputationView,
} from '../../src/observe/index.js';
import { createSeries } from '../../src/series/index.js';
import type { Entry, View } from '../../src/series/types.js';
import { collect, withTmpDir } from '../helpers/series-tmp.js';

let seq = 0;
const e = (event: string, fields: Record<string, unknown>): Entry => ({ seq: ++seq, t: 0, event, ...fields });
const cons = (value: number, spread: number, values: Record<string, number>) =>
  e('consensus', { cell: 'u2edk8', metric: 'temp', value, spread, values, rep_seq: 0 });

describe('reputation', () => {
  it('is 0.5 with no history', () => {
    expect(REP_PRIOR).toBe(0.5);
    expect(reputationOf(replayReputation([]), 'x')).toBe(0.5);
  });

  it('agreement within k·spread is positive, beyond it negative', () => {
    expect(DEFAULT_AGREE_K).toBe(3);
    expect(agrees(13, 10, 1)).toBe(true);
    expect(agrees(13.01, 10, 1)).toBe(false);
    expect(agrees(10, 10, 0)).toBe(true); // floor when the spread is 0
    const five = { c: 10, d: 10, e: 10 };
    const s = replayReputation([cons(10, 1, { a: 10.5, b: 20, ...five }), cons(10, 1, { a: 9.5, b: 10, ...five })]);
    expect(reputationOf(s, 'a')).toBe(1);
    expect(reputationOf(s, 'b')).toBe(0.5);
    // Fewer than DEFAULT_AGREE_MIN_RESPONDERS perspectives: nobody is judged.
    expect(DEFAULT_AGREE_MIN_RESPONDERS).toBe(5);
    expect(replayReputation([cons(10, 1, { a: 10, b: 99, c: 10, d: 10 })]).nodes).toEqual({});
  });

  it('a hash mismatch weighs more than an agreement; silence is mild; offline and NO are not held against', () => {
    const s = replayReputation([
      cons(10, 1, { a: 10, b: 10, c: 10, x: 10, y: 10 }),
      e('chunk_rejected', { id: 'ab', from: 'a', reason: 'hash_mismatch', via: 'want_chunk' }),
      e('intent_outcome', { kind: 'want_observations', silence: ['b'], offline: ['c'], no: ['c'], yes: [] }),
      e('chunk_fetched', { id: 'cd', from: 'c', size: 10, attempts: 1 }),
    ]);
    expect(reputationOf(s, 'a')).toBeCloseTo(1 / (1 + REP_HASH_MISMATCH_WEIGHT), 12);
    expect(reputationOf(s, 'b')).toBeCloseTo(1 / (1 + REP_SILENCE_WEIGHT), 12);
    expect(reputationOf(s, 'c')).toBe(1);
    const m = replayReputation([e('chunk_rejected', { id: 'ab', from: 'm', reason: 'malformed', via: 'store_chunk' })]);
    expect(m.nodes.m).toEqual({ pos: 0, neg: REP_MALFORMED_WEIGHT });
    expect(reputationScores(s)).toEqual({ a: reputationOf(s, 'a'), b: reputationOf(s, 'b'), c: 1, x: 1, y: 1 });
    const o = replayReputation([
      e('observation_rejected', { from: 'g', intent: 'i', cell: 'u2', reason: 'malformed' }),
    ]);
    expect(o.nodes.g).toEqual({ pos: 0, neg: REP_MALFORMED_WEIGHT });
  });

  it('ignores malformed evidence instead of throwing', () => {
    const s = replayReputation([
      e('consensus', { value: 'x', values: { a: 1 } }),
      e('consensus', { value: 1, spread: 0, values: { a: 'nope' } }),
      e('chunk_rejected', {}),
      e('intent_outcome', { silence: [3, '', 'z'] }),
    ]);
    expect(Object.keys(s.nodes)).toEqual(['z']);
  });

  it('the live view equals the replayed function for any entry sequence', () => {
    const entryArb = fc.oneof(
      fc
        .record({
          value: fc.double({ min: -50, max: 50, noNaN: true }),
          spread: fc.double({ min: 0, max: 5, noNaN: true }),
          values: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.double({ min: -50, max: 50, noNaN: true })),
        })
        .map((f) => ({ event: 'consensus', ...f })),
      fc
        .record({ from: fc.constantFrom('a', 'b', 'e'), reason: fc.constantFrom('hash_mismatch', 'malformed') })
        .map((f) => ({ event: 'chunk_rejected', ...f })),
      fc.record({ from: fc.constantFrom('a', 'd') }).map((f) => ({ event: 'chunk_fetched', ...f })),
      fc.record({ silence: fc.array(fc.constantFrom('a', 'c', 'e')) }).map((f) => ({ event: 'intent_outcome', ...f })),
    );
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 40 }), (inputs) => {
        const entries = inputs.map((f, i) => ({ ...f, seq: i + 1, t: 0 }) as Entry);
        let live = reputationView.initial();
        for (const x of entries) live = reputationView.apply(live, x);
        expect(replayReputation(entries)).toEqual(live);
        for (const id of ['a', 'b', 'c', 'd', 'e']) {
          const r = reputationOf(live, id);
          expect(r).toBeGreaterThanOrEqual(0);
          expect(r).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it(`is bounded to ${MAX_REPUTATION_NODES} nodes, dropping the least evidence`, () => {
    let s = reputationView.initial();
    s = reputationView.apply(s, cons(0, 1, { keep: 0, k1: 0, k2: 0, k3: 0, k4: 0 }));
    s = reputationView.apply(s, cons(0, 1, { keep: 0, k1: 0, k2: 0, k3: 0, k4: 0 }));
    for (let i = 0; i < MAX_REPUTATION_NODES + 10; i++) {
      s = reputationView.apply(s, e('intent_outcome', { silence: [`n${i}`] }));
    }
    expect(Object.keys(s.nodes)).toHaveLength(MAX_REPUTATION_NODES);
    expect(s.nodes.keep).toEqual({ pos: 2, neg: 0 });
  });
});

describe('replay after ring eviction', () => {
  it('starts from a leading snapshot that carries the view, and skips later snapshots', () => {
    const five = { c: 10, d: 10, e: 10 };
    const before = [cons(10, 1, { a: 10, b: 30, ...five }), cons(10, 1, { a: 10, b: 30, ...five })];
    const full = replayReputation(before);
    const snap: Entry = { seq: 100, t: 0, event: 'snapshot', views: { 'observe.reputation': structuredClone(full) } };
    const after = [cons(10, 1, { a: 10, b: 10, ...five })].map((x) => ({ ...x, seq: x.seq + 100 }));
    const fromSnap = replayReputation([snap, ...after]);
    expect(fromSnap).toEqual(replayReputation([...before, ...after]));
    expect(snap.views).toEqual({ 'observe.reputation': full }); // not mutated
    const junkSnap: Entry = { seq: 200, t: 0, event: 'snapshot', views: { 'observe.reputation': { nodes: {} } } };
    expect(replayReputation([...before, junkSnap])).toEqual(full);
  });
});

describe('reputation view on a real series with ring eviction', () => {
  it('survives eviction and reopen: live view = replay from the oldest kept snapshot', async () => {
    await withTmpDir(async (dir) => {
      const opts = {
        dir,
        durability: 'none' as const,
        segmentBytes: 4096,
        budgetBytes: 16_384,
        views: [reputationView as View<unknown>],
      };
      const series = createSeries(opts);
      await series.open();
      const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
      for (let i = 0; i < 300; i++) {
        const values = Object.fromEntries(ids.map((id, k) => [id, id === 'f' && i % 3 === 0 ? 50 : 10 + k * 0.01]));
        await series.append({
          event: 'consensus',
          cell: 'u2edk8',
          metric: 't',
          value: 10,
          spread: 0.5,
          values,
          rep_seq: 0,
        });
        if (i % 10 === 0) await series.append({ event: 'intent_outcome', kind: 'want_observations', silence: ['e'] });
      }
      const live = structuredClone(series.view<ReputationState>(REPUTATION_VIEW));
      expect(series.stats().evictedSegments).toBeGreaterThan(0);
      const kept = await collect(series.read());
      expect(kept[0]?.event).toBe('snapshot');
      expect(replayReputation(kept)).toEqual(live);
      await series.close();
      const again = createSeries(opts);
      await again.open();
      expect(again.view(REPUTATION_VIEW)).toEqual(live);
      await again.close();
      expect(reputationOf(live, 'f')).toBeCloseTo(200 / 300, 12);
    });
  });
});
