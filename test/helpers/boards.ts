/**
 * Board profiles for node suites whose subject is one limiter.
 */
import { type Board, loadBoard, parseBoard } from '../../devices/boards/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * `generic` with a 4 MiB storage budget (small segments and ring to match) and CPU budgets out of
 * reach, so that only storage may refuse.
 */
export function tinyStorageBoard(): Board {
  const g = loadBoard('generic');
  return parseBoard(
    {
      ...g,
      board: 'tiny',
      storage: { budgetBytes: 4 * MiB, reserveBytes: 0, statfsEveryMs: 200 },
      series: { segmentBytes: 256 * KiB, batchWindowMs: 5, ringBudgetBytes: 2 * MiB },
      cpu: { ...g.cpu, budgetCores: 64, loopDelayBudgetMs: 60_000 },
    },
    'test',
  );
}
