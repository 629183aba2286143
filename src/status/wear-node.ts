/** A running node's wear: its series writer's counters and the write budget of the board it runs with. */
import { loadBoard } from '../../devices/boards/index.js';
import type { Series } from '../series/index.js';
import { type Wear, type WearCounts, wearOf } from './wear.js';

/** `commitStats()` is on the series implementation, not on the `Series` contract. */
function wearCounts(series: Series): WearCounts | undefined {
  const f = (series as { commitStats?: () => WearCounts }).commitStats;
  return typeof f === 'function' ? f.call(series) : undefined;
}

/** Budgets of the named profiles looked up so far: metrics ask at every scrape, and a profile is a file. */
const budgets = new Map<string, number | undefined>();
/** Names remembered at most (the built-in profiles are a handful). */
const MAX_BUDGETS_KEPT = 16;

/** The write budget of a named board profile; undefined for a custom file or a profile without one. */
export function writeBudgetOf(board: string | null): number | undefined {
  if (board === null) return undefined;
  if (budgets.has(board)) return budgets.get(board);
  let budget: number | undefined;
  try {
    budget = loadBoard(board).storage.writeBudgetBytes;
  } catch {
    budget = undefined; // a custom board given as a file: its name does not load
  }
  if (budgets.size < MAX_BUDGETS_KEPT) budgets.set(board, budget);
  return budget;
}

/** `{ wear }` for a writable series, `{}` for one that writes nothing (read-only, or a custom implementation). */
export function wearOfSeries(series: Series, board: string | null): { wear?: Wear } {
  const counts = wearCounts(series);
  return counts === undefined || counts.sinceMs === 0 ? {} : { wear: wearOf(counts, writeBudgetOf(board)) };
}
