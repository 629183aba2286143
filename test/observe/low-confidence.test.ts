/**
 * A consensus from fewer than `min_responders` responders is written `low_confidence: true`, a
 * replay recomputes the same mark, map features carry `lowConfidence`, and `dameso map` shows such
 * a row as low confidence instead of a value with a spread.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cellOf,
  consensusInput,
  consensusMap,
  DEFAULT_MIN_RESPONDERS,
  replayConsensus,
  reputationView,
} from '../../src/observe/index.js';
import { createSeries } from '../../src/series/index.js';
import type { Entry } from '../../src/series/types.js';
import { runMapInProcess } from '../helpers/map-cli.js';
import { withTmpDir } from '../helpers/series-tmp.js';

const CELL_A = cellOf(48.2, 16.37, 7);
const CELL_B = cellOf(48.21, 16.38, 7);

const input = (cell: string, values: Record<string, number>, minResponders?: number) =>
  consensusInput(
    cell,
    'temp',
    Object.entries(values).map(([node, value]) => ({ node, value })),
    reputationView.initial(),
    0,
    { method: 'median', maxShare: 0.2, ...(minResponders !== undefined ? { minResponders } : {}) },
  );

describe('low-confidence consensus', () => {
  it('is marked below min_responders only, and the mark replays', () => {
    expect(DEFAULT_MIN_RESPONDERS).toBe(3);
    const few = input(CELL_A, { a: 30.017 }, 3);
    expect(few).toMatchObject({ min_responders: 3, low_confidence: true });
    const enough = input(CELL_A, { a: 1, b: 2, c: 3 }, 3);
    expect(enough.min_responders).toBe(3);
    expect('low_confidence' in enough).toBe(false);
    expect('min_responders' in input(CELL_A, { a: 1 })).toBe(false); // not asked: not recorded
    const entries = [few, enough].map((e, i) => ({ ...e, seq: i + 1, t: 1000 }) as Entry);
    expect(replayConsensus(entries).map((r) => r.same)).toEqual([true, true]);
    // A tampered mark does not replay.
    const tampered = { ...entries[1], low_confidence: true } as Entry;
    expect(replayConsensus([tampered]).map((r) => r.same)).toEqual([false]);
  });

  it('map features carry lowConfidence; `dameso map` text marks the row', async () => {
    const map = consensusMap([
      { ...input(CELL_A, { a: 30.017 }, 3), seq: 1, t: 1 },
      { ...input(CELL_B, { a: 1, b: 2, c: 3 }, 3), seq: 2, t: 2 },
    ]);
    expect(map.features.map((f) => [f.properties.cell, f.properties.lowConfidence])).toEqual([
      [CELL_A, true],
      [CELL_B, false],
    ]);
    await withTmpDir(async (dir) => {
      const series = createSeries({ dir: join(dir, 'series'), durability: 'always' });
      await series.open();
      await series.append(input(CELL_A, { a: 30.017 }, 3));
      await series.append(input(CELL_B, { a: 1, b: 2, c: 3 }, 3));
      await series.close();
      const lines = (await runMapInProcess(['--data', dir])).split('\n');
      const rowA = lines.find((l) => l.startsWith(CELL_A)) ?? '';
      expect(rowA).toContain('30.017');
      expect(rowA).toContain('low confidence (n=1 < 3)');
      expect(rowA).not.toContain('±');
      const rowB = lines.find((l) => l.startsWith(CELL_B)) ?? '';
      expect(rowB).toMatch(/2\.000 ±/);
      expect(rowB).not.toContain('low confidence');
    });
  });
});
