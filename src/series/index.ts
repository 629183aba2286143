/**
 * The series: dameso's one source of truth. A durable, ring-buffered, CBOR-framed log of entries
 * with derived views (see `types.ts` for the contract and docs/architecture.md "The series is the state").
 *
 * ```ts
 * const series = createSeries({ dir, durability: 'batch', views: [sessionView] });
 * await series.open();                       // recovers the tail, rebuilds the views
 * const e = await series.append({ event: 'boot' }); // resolves once durable
 * for await (const x of series.read({ event: 'boot' })) …
 * await series.close();
 * ```
 *
 * Things to know:
 * - Every segment opens with a `snapshot` entry (`{event:'snapshot', views:{name: state}}`), the
 *   first one included, so a fresh series' first appended entry has seq 2. `read`/`tail`/`chunk`
 *   return snapshot entries like any other entry; filter with `event` if unwanted. `append`
 *   refuses `event: 'snapshot'`.
 * - `batch` commits take turns on the injected clock's timer (pacer.ts: series on one storage
 *   device share one turn per window; on the real clock the process keeps one pacer per device): with
 *   a manual clock, advance it (or call `flush()`), or use `always`/`none`, otherwise `append` never
 *   resolves.
 * - `record(entry)` is `append` without the promise, for writes nobody awaits: a failure after the
 *   call reaches `onFailure` once, and every later write throws it.
 * - Reads see what has been written to the files (possibly not yet fdatasync'ed), not the queue.
 * - After a write/fsync error the series is failed: every append rejects with the typed error
 *   (`DAMESO_FSYNC_FAILED`, `DAMESO_IO`, `DAMESO_NO_SPACE`, `DAMESO_READ_ONLY`); reopen it.
 * - View state must be plain CBOR data (objects with text keys, arrays, numbers, text, bytes):
 *   a `Map` comes back from a snapshot as a plain object.
 */
import { DurableSeries } from './series.js';
import type { Series, SeriesOptions } from './types.js';

export { buildChunk, chunkId, decodeChunk } from './chunk.js';
export * from './constants.js';
export * from './errors.js';
export { LOCK_FILE, liveWriter, SeriesLockedError } from './lock.js';
export {
  AWAITED_RUN,
  createSyncPacer,
  devicePacers,
  type PacedMember,
  type SyncPacer,
  type SyncPacerOptions,
} from './pacer.js';
export { type OnRefused, recorder } from './recorder.js';
export type * from './types.js';
export { type SegmentReport, type VerifyReport, verifySeries } from './verify.js';
export { fold } from './views.js';

/** Create a series (no I/O until `open()`). */
export function createSeries(options: SeriesOptions): Series {
  return new DurableSeries(options);
}
