/** Opens a real series in `dir` with `views` for the chunks tests (durability `none`: fast, survives a process crash). */
import type { Clock } from '../../src/clock.js';
import { systemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { createSeries } from '../../src/series/index.js';
import type { Series, View } from '../../src/series/types.js';

export async function openSeries(
  dir: string,
  views: readonly View<unknown>[],
  clock: Clock = systemClock,
): Promise<Series> {
  return createSeries({ dir, views, clock, log: silentLogger, durability: 'none' });
}
