/**
 * Property: over a ring that has evicted, derivation (last snapshot + fold of what follows) equals
 * the fold of the full history, live and after reopening; and the ring stays inside its budget.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSeries, type Entry, fold, type View } from '../../src/series/index.js';
import { countView, sumView, withTmpDir } from '../helpers/series-tmp.js';

/** Last `n` seen per event, and the max seq: order-sensitive, so a lost or reordered entry shows. */
const lastView: View<Record<string, { seq: number; n: number }>> = {
  name: 'last',
  initial: () => ({}),
  apply: (s, e: Entry) => ({ ...s, [e.event]: { seq: e.seq, n: typeof e.n === 'number' ? e.n : -1 } }),
};
const views = [countView, sumView, lastView] as View<unknown>[];

const op = fc.record({
  event: fc.constantFrom('a', 'b', 'c', 'd'),
  n: fc.integer({ min: -1000, max: 1000 }),
  pad: fc.nat({ max: 600 }),
  snapshot: fc.boolean().map((b) => b && Math.random() < 0.05),
});

describe('series ring property', () => {
  it('snapshot + fold over an evicted ring equals the derivation over the full history', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 250 }), async (ops) => {
        await withTmpDir(async (dir) => {
          const cfg = { dir, durability: 'none' as const, views, segmentBytes: 4096, budgetBytes: 3 * 4096 };
          const s = createSeries(cfg);
          await s.open();
          const history: Entry[] = [];
          for (const o of ops) {
            if (o.snapshot) await s.snapshot();
            history.push(await s.append({ event: o.event, n: o.n, pad: 'x'.repeat(o.pad) }));
            expect(s.stats().bytes).toBeLessThanOrEqual(cfg.budgetBytes);
          }
          for (const v of views) expect(s.view(v.name)).toEqual(fold(history, v));
          await s.close();
          const again = createSeries(cfg);
          const rep = await again.open();
          for (const v of views) expect(again.view(v.name)).toEqual(fold(history, v));
          // The oldest retained entry is a snapshot: eviction dropped whole segments only.
          const first = [];
          for await (const e of again.read({ toSeq: rep.firstSeq })) first.push(e);
          expect(first[0]?.event).toBe('snapshot');
          await again.close();
        });
      }),
      { numRuns: 30 },
    );
  }, 60_000);

  it('evicts in a long run (the property above is not vacuous)', async () => {
    await withTmpDir(async (dir) => {
      const s = createSeries({ dir, durability: 'none', views, segmentBytes: 4096, budgetBytes: 3 * 4096 });
      await s.open();
      const history: Entry[] = [];
      for (let i = 0; i < 300; i++) history.push(await s.append({ event: 'a', n: i, pad: 'x'.repeat(100) }));
      expect(s.stats().evictedSegments).toBeGreaterThan(3);
      expect(s.stats().firstSeq).toBeGreaterThan(100);
      expect(s.view(sumView.name)).toEqual(fold(history, sumView));
      await s.close();
    });
  });
});
