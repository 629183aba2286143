import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit.js';
import {
  cellBox,
  cellOf,
  consensusInput,
  consensusMap,
  type MapCollection,
  NoConsensusError,
  reputationView,
} from '../../src/observe/index.js';
import { createSeries } from '../../src/series/index.js';
import type { Entry } from '../../src/series/types.js';
import { runMapInProcess } from '../helpers/map-cli.js';
import { withTmpDir } from '../helpers/series-tmp.js';

const CELL_A = cellOf(48.2, 16.37, 7);
const CELL_B = cellOf(48.21, 16.38, 7);

const entry = (seq: number, cell: string, metric: string, values: Record<string, number>): Entry => ({
  ...consensusInput(
    cell,
    metric,
    Object.entries(values).map(([node, value]) => ({ node, value })),
    reputationView.initial(),
    0,
    { method: 'median', maxShare: 0.2 },
  ),
  seq,
  t: 1000 + seq,
});

describe('consensus map', () => {
  it('one Feature per cell and metric, newest wins, Polygon = geohash box (RFC 7946 ring)', () => {
    const map = consensusMap([
      entry(1, CELL_A, 'temp', { a: 1, b: 2, c: 3 }),
      entry(2, CELL_A, 'temp', { a: 10, b: 20, c: 30 }),
      entry(3, CELL_B, 'temp', { a: 5 }),
      entry(4, CELL_A, 'hum', { a: 50 }),
      { seq: 5, t: 0, event: 'observation' },
    ]);
    expect(map.features.map((f) => [f.properties.cell, f.properties.metric, f.properties.value])).toEqual([
      [CELL_A, 'hum', 50],
      [CELL_A, 'temp', 20],
      [CELL_B, 'temp', 5],
    ]);
    const [minLat, minLon, maxLat, maxLon] = cellBox(CELL_A);
    expect(map.features[1]?.geometry.coordinates[0]).toEqual([
      [minLon, minLat],
      [maxLon, minLat],
      [maxLon, maxLat],
      [minLon, maxLat],
      [minLon, minLat],
    ]);
    expect(map.features[1]?.properties).toMatchObject({ responders: ['a', 'b', 'c'], n: 3, method: 'median', seq: 2 });
    expect(consensusMap([entry(1, CELL_A, 'temp', { a: 1 })], 'hum').features).toHaveLength(0);
  });

  it('`dameso map` reads a real series: --geojson file, --json, and a clear error when empty', async () => {
    await withTmpDir(async (dir) => {
      const series = createSeries({ dir: join(dir, 'series'), durability: 'always' });
      await series.open();
      const { seq: _s, t: _t, ...a } = entry(0, CELL_A, 'temp', { a: 1, b: 2, c: 3 });
      const { seq: _s2, t: _t2, ...b } = entry(0, CELL_B, 'hum', { a: 40 });
      await series.append(a as Entry);
      await series.append(b as Entry);
      await series.close();
      const file = join(dir, 'map.geojson');
      const r = await runMapInProcess(['--data', dir, '--metric', 'temp', '--geojson', file, '--json']);
      expect(JSON.parse(r)).toEqual({ file, features: 1 });
      const geo = JSON.parse(await readFile(file, 'utf8')) as MapCollection;
      expect(geo.type).toBe('FeatureCollection');
      expect(geo.features[0]?.properties).toMatchObject({ cell: CELL_A, metric: 'temp', value: 2 });
      const all = JSON.parse(await runMapInProcess(['--data', dir, '--json'])) as MapCollection;
      expect(all.features).toHaveLength(2);
      const table = await runMapInProcess(['--data', dir]);
      expect(table.split('\n')[1]).toContain(CELL_A);
      const err = await runMapInProcess(['--data', dir, '--metric', 'nope']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoConsensusError);
      expect(EXIT.forCode((err as NoConsensusError).code)).toBe(EXIT.dataErr);
      expect((err as Error).message).toContain('no consensus entries for metric "nope"');
    });
  });
});
