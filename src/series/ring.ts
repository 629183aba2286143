/**
 * The ring: whole oldest segments are dropped to keep the series inside its byte budget.
 */
import { unlink } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { type SegmentInfo, syncDir } from './segments.js';

/**
 * Drop whole oldest segments (never the active, last one) from `segments` (oldest first, changed
 * in place) until the sealed segments plus a full active segment fit the budget, so the ring
 * stays inside it while the active one grows. Returns how many were dropped. A failure to delete
 * is logged, not fatal: nothing durable is at risk, only the budget.
 */
export async function evictToBudget(
  segments: SegmentInfo[],
  o: { dir: string; budgetBytes: number; segmentBytes: number; log: Logger },
): Promise<number> {
  let removed = 0;
  let total = segments.reduce((a, g) => a + g.size, 0);
  while (segments.length > 1) {
    const active = segments[segments.length - 1]!;
    if (total - active.size + Math.max(active.size, o.segmentBytes) <= o.budgetBytes) break;
    const oldest = segments[0]!;
    try {
      await unlink(oldest.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        o.log.error({ err, path: oldest.path }, 'series could not evict a segment; the ring is over budget');
        break;
      }
    }
    segments.shift();
    total -= oldest.size;
    removed++;
  }
  if (removed > 0) await syncDir(o.dir).catch((err) => o.log.error({ err }, 'series folder fsync failed'));
  return removed;
}
