/**
 * The newest entry of some events among the newest entries of a series: bounded, because a
 * node that never wrote one would otherwise have its whole ring read.
 */
import type { Series } from '../series/types.js';
import type { RecordedEntry } from './types.js';
import { shown } from './view.js';

export async function newestOf(
  series: Pick<Series, 'read' | 'lastSeq'>,
  events: readonly string[],
  scanEntries: number,
): Promise<Record<string, RecordedEntry>> {
  const found: Record<string, RecordedEntry> = {};
  if (events.length === 0) return found;
  const fromSeq = Math.max(1, series.lastSeq - scanEntries + 1);
  for await (const e of series.read({ fromSeq, event: events })) found[e.event] = shown(e);
  return found;
}
