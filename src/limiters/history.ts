/**
 * A node's recorded limiter history, read from its series without disturbing it (read-only open:
 * no recovery truncation, no appends). Used by `dameso limits --data DIR`.
 * Opening folds only the entries after the last snapshot (bounded by one segment); `replay: true`
 * streams the whole ring through the policy.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SERIES_SUBDIR } from '../node/constants.js';
import type { View } from '../series/index.js';
import { LIMITERS_VIEW } from './constants.js';
import { type ReplayReport, replaySeries } from './replay.js';
import { type LimiterTally, limitersView } from './view.js';

export interface LimiterHistory {
  tally: LimiterTally;
  replay?: ReplayReport;
}

/** `undefined` when `dataDir` holds no series. */
export async function readLimiterHistory(
  dataDir: string,
  options: { replay?: boolean } = {},
): Promise<LimiterHistory | undefined> {
  const dir = join(dataDir, SERIES_SUBDIR);
  if (!existsSync(dir)) return undefined;
  // Loaded here, not at import: `dameso limits` without --data never reads a history, and the
  // series modules are a large part of that command's start.
  const { createSeries } = await import('../series/index.js');
  const series = createSeries({ dir, readOnly: true, views: [limitersView as View<unknown>] });
  await series.open();
  try {
    const tally = series.view<LimiterTally>(LIMITERS_VIEW);
    return options.replay ? { tally, replay: await replaySeries(series) } : { tally };
  } finally {
    await series.close();
  }
}
