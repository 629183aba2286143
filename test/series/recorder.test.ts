import { describe, expect, it } from 'vitest';
import { createSeries, type EntryInput, recorder } from '../../src/series/index.js';
import { withTmpDir } from '../helpers/series-tmp.js';

describe('recorder', () => {
  it('records without throwing; each refusal is counted and handed over with its entry', async () => {
    await withTmpDir(async (dir) => {
      const s = createSeries({ dir, durability: 'none' });
      await s.open();
      const refused: [string, string, number][] = [];
      const record = recorder(s, (err, entry: EntryInput, n) =>
        refused.push([(err as { code: string }).code, entry.event, n]),
      );
      record({ event: 'kept' });
      record({ event: 'snapshot' }); // reserved: the series refuses it
      await s.close();
      record({ event: 'after-close' });
      expect(refused).toEqual([
        ['DAMESO_BAD_ENTRY', 'snapshot', 1],
        ['DAMESO_SERIES_CLOSED', 'after-close', 2],
      ]);
      expect(() => recorder(s)({ event: 'silent' })).not.toThrow();
      const again = createSeries({ dir, durability: 'none' });
      expect((await again.open()).lastSeq).toBe(2);
      await again.close();
    });
  });
});
