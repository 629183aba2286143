/**
 * Child process for the crash test: stores one chunk and SIGKILLs itself after the temp file is
 * written and fsynced, before the rename. argv: dataDir. Prints nothing; dies by SIGKILL.
 */

import { createChunkStore } from '../../src/chunks/store.js';
import { chunksView } from '../../src/chunks/view.js';
import { systemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { makeChunk } from './chunks-fixtures.js';
import { openSeries } from './chunks-series.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: chunks-crash-child DATA_DIR');
// Its own series: the test process holds the lock on `<dataDir>/series`.
const series = await openSeries(`${dataDir}/series-child`, [chunksView]);
await series.open();
const store = createChunkStore({
  dataDir,
  series,
  clock: systemClock,
  log: silentLogger,
  beforeRename: () => {
    process.kill(process.pid, 'SIGKILL');
  },
});
await store.open();
const c = makeChunk('crasher', { entries: 8, approxBytes: 4096 });
await store.put(c.id, c.bytes);
