import { encode } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSeries } from '../../src/series/index.js';
import { peekEvent } from '../../src/series/read.js';
import { collect, withTmpDir } from '../helpers/series-tmp.js';

describe('series reads', () => {
  it('peekEvent agrees with a full decode, or declines', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.oneof(fc.double({ noNaN: true }), fc.integer(), fc.constant(-0)),
        fc.string({ minLength: 1, maxLength: 300 }),
        fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue(), { maxKeys: 3 }),
        (seq, t, event, extra) => {
          const b = Buffer.from(encode({ seq, t, event, ...extra }));
          const peeked = peekEvent(b);
          if (peeked !== undefined) expect(peeked).toBe(event);
        },
      ),
    );
    expect(peekEvent(Buffer.from(encode({ seq: 1, t: 1.5, event: 'é✓' })))).toBe('é✓');
    expect(peekEvent(Buffer.from(encode({ seq: 1, t: 1700000000000, event: 'x', n: 1 })))).toBe('x');
  });

  it('filters by event over several segments, newest-first tail across them', async () => {
    await withTmpDir(async (dir) => {
      const s = createSeries({ dir, durability: 'none', segmentBytes: 4096, budgetBytes: 1 << 20 });
      await s.open();
      for (let i = 0; i < 300; i++) await s.append({ event: i % 10 === 0 ? 'rare' : 'common', i, pad: 'p'.repeat(50) });
      expect(s.stats().segments).toBeGreaterThan(3);
      const rare = await collect(s.read({ event: 'rare' }));
      expect(rare.map((e) => e.i)).toEqual(Array.from({ length: 30 }, (_, k) => k * 10));
      const tail = await s.tail(5, { event: ['rare', 'nope'] });
      expect(tail.map((e) => e.i)).toEqual([290, 280, 270, 260, 250]);
      expect(await s.tail(3, { event: 'missing' })).toEqual([]);
      const range = await collect(s.read({ fromSeq: 100, toSeq: 120, event: 'common' }));
      expect(range.every((e) => e.seq >= 100 && e.seq <= 120 && e.event === 'common')).toBe(true);
      expect(range.length).toBeGreaterThan(15);
      await s.close();
    });
  });
});

describe('series time-range reads', () => {
  it('learn sealed segments t bounds, then skip them, with the same results', async () => {
    await withTmpDir(async (dir) => {
      const s = createSeries({ dir, durability: 'none', segmentBytes: 4096, budgetBytes: 1 << 20 });
      await s.open();
      // t jumps backwards once (an NTP correction) and is otherwise rising.
      for (let i = 0; i < 200; i++)
        await s.append({ event: 'e', t: i < 100 ? 1000 + i : 900 + i, pad: 'p'.repeat(60) });
      const q = { fromT: 1050, toT: 1060 };
      const first = await collect(s.read(q));
      const segs = (s as unknown as { segments: { minT?: number }[] }).segments;
      expect(segs.slice(0, -1).every((g) => g.minT !== undefined)).toBe(true);
      const second = await collect(s.read(q));
      expect(second).toEqual(first);
      expect(first.map((e) => e.t).sort()).toEqual(
        [
          1050, 1051, 1052, 1053, 1054, 1055, 1056, 1057, 1058, 1059, 1060, 1050, 1051, 1052, 1053, 1054, 1055, 1056,
          1057, 1058, 1059, 1060,
        ].sort(),
      );
      await s.close();
    });
  });
});
