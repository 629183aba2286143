/**
 * A bounded per-cell index of this node's observations: for each cell, the seqs of its newest
 * `MAX_INDEX_PER_CELL` observations; at most `MAX_INDEX_CELLS` cells (the cell observed least
 * recently is dropped). Seqs only, so a snapshot stays small (≈ cells × per-cell × 5 bytes CBOR);
 * the `want_observations` handler reads the observations themselves from the series.
 */
import type { View } from '../series/types.js';
import { MAX_INDEX_CELLS, MAX_INDEX_PER_CELL } from './constants.js';
import { asObservation, OBSERVATION_EVENT } from './observation.js';

export const CELL_INDEX_VIEW = 'observe.cells';

export interface CellIndexState {
  /** cell → seqs ascending (newest last). */
  cells: Record<string, number[]>;
}

export function createCellIndexView(perCell = MAX_INDEX_PER_CELL, maxCells = MAX_INDEX_CELLS): View<CellIndexState> {
  return {
    name: CELL_INDEX_VIEW,
    events: [OBSERVATION_EVENT],
    initial: () => ({ cells: {} }),
    apply(state, entry) {
      const o = asObservation(entry);
      if (!o) return state;
      const seqs = state.cells[o.cell] ?? [];
      seqs.push(entry.seq);
      if (seqs.length > perCell) seqs.splice(0, seqs.length - perCell);
      state.cells[o.cell] = seqs;
      const ids = Object.keys(state.cells);
      if (ids.length > maxCells) {
        // Drop the cell whose newest observation is oldest (deterministic: seqs are unique).
        let oldest = ids[0] as string;
        for (const id of ids) {
          const a = state.cells[id] as number[];
          const b = state.cells[oldest] as number[];
          if ((a[a.length - 1] as number) < (b[b.length - 1] as number)) oldest = id;
        }
        delete state.cells[oldest];
      }
      return state;
    },
  };
}

/** Seqs of the newest `limit` observations in cells starting with `prefix`, ascending. */
export function seqsFor(state: CellIndexState, prefix: string, limit: number): number[] {
  const all: number[] = [];
  const exact = state.cells[prefix];
  if (exact && prefix.length >= 1) all.push(...exact);
  for (const [cell, seqs] of Object.entries(state.cells)) {
    if (cell !== prefix && cell.startsWith(prefix)) all.push(...seqs);
  }
  all.sort((a, b) => a - b);
  return all.slice(-limit);
}
