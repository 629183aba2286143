import { describe, expect, it } from 'vitest';
import type { ReceivedIntent } from '../../src/intent/types.js';
import {
  CELL_INDEX_VIEW,
  type CellIndexState,
  cellOf,
  createCellIndexView,
  createObservationHandler,
  type ObservationsData,
  observationInput,
} from '../../src/observe/index.js';
import { createSeries } from '../../src/series/index.js';
import type { Series } from '../../src/series/types.js';
import { withTmpDir } from '../helpers/series-tmp.js';

const intent = (subject?: string): ReceivedIntent => ({
  envelope: {
    v: 1,
    id: 'i1',
    from: 'req',
    session: 1,
    kind: 'want_observations',
    t: 0,
    deadline: 1000,
    ...(subject !== undefined ? { subject } : {}),
  },
  bytes: 50,
  receivedAt: 0,
});

const A = { lat: 48.2, lon: 16.37 };
const B = { lat: -37.78, lon: 175.31 };

async function withSeries<T>(fn: (s: Series) => Promise<T>, index = true): Promise<T> {
  return withTmpDir(async (dir) => {
    const series = createSeries({ dir, durability: 'none', views: index ? [createCellIndexView(4, 8)] : [] });
    await series.open();
    try {
      return await fn(series);
    } finally {
      await series.close();
    }
  });
}

describe('want_observations handler', () => {
  for (const index of [true, false]) {
    it(`answers YES with its own newest observations in the cell, SILENCE elsewhere (${index ? 'index view' : 'tail scan'})`, async () => {
      await withSeries(async (series) => {
        for (let i = 0; i < 6; i++) {
          await series.append(observationInput({ ...A, metric: 'temp', value: i, fix: 1 }, 7));
          await series.append(observationInput({ ...B, metric: 'temp', value: 100 + i, fix: 1 }, 7));
        }
        const h = createObservationHandler({ series, maxObservations: 4 });
        const cell = cellOf(A.lat, A.lon, 7);
        expect(h.kind).toBe('want_observations');
        expect(h.role).toBe('mapper');
        const yes = await h.handle(intent(cell));
        expect(yes.r).toBe('yes');
        const data = (yes as { data: ObservationsData }).data;
        expect(data.cell).toBe(cell);
        expect(data.obs.map((o) => o.value)).toEqual([2, 3, 4, 5]); // newest 4, oldest first
        expect(data.obs.every((o) => o.cell === cell)).toBe(true);
        // A coarser prefix covers the cell too.
        const coarse = await h.handle(intent(cell.slice(0, 4)));
        expect((coarse as { data: ObservationsData }).data.obs).toHaveLength(4);
        const elsewhere = cellOf(0, 0, 7);
        expect(await h.relevant?.(intent(elsewhere))).toBe(!index);
        expect((await h.handle(intent(elsewhere))).r).toBe('silence');
        expect(await h.handle(intent('not a cell!'))).toEqual({ r: 'no', reason: 'bad_request' });
        expect(await h.handle(intent())).toEqual({ r: 'no', reason: 'bad_request' });
      }, index);
    });
  }

  it('the cell index is bounded per cell and in cells', async () => {
    await withSeries(async (series) => {
      for (let i = 0; i < 12; i++) {
        await series.append(observationInput({ lat: 10 + i, lon: 10, metric: 'x', value: i, fix: 1 }, 5));
      }
      await series.append(observationInput({ lat: 21, lon: 10, metric: 'x', value: 0, fix: 1 }, 5));
      const s = series.view<CellIndexState>(CELL_INDEX_VIEW);
      expect(Object.keys(s.cells)).toHaveLength(8);
      expect(s.cells[cellOf(21, 10, 5)]).toHaveLength(2);
      expect(s.cells[cellOf(10, 10, 5)]).toBeUndefined(); // least recently observed dropped
    });
  });
});
