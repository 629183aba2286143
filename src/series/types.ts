/**
 * The series contract. Every other part of dameso depends on these types only; the implementation
 * behind `createSeries` (segments, framing, group commit, ring, recovery) stays private to
 * `src/series/`.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { SyncPacer } from './pacer.js';

/**
 * One entry. `seq` orders the series (starts at 1, grows by one, never reused); `t` is the wall
 * clock at append and may jump (no RTC, NTP), so it is never assumed sorted. Every other field is
 * the event's own and must be CBOR-encodable plain data (numbers, strings, booleans, null,
 * Uint8Array, arrays, plain objects with text keys).
 */
export interface Entry {
  seq: number;
  t: number;
  event: string;
  [field: string]: unknown;
}

/** What a caller appends: the series stamps `seq` and `t`. */
export interface EntryInput {
  event: string;
  /** Optional wall-clock override (ms); defaults to `clock.now()`. */
  t?: number;
  [field: string]: unknown;
}

/**
 * When `append` resolves:
 * - `always`: after an fdatasync of that entry (one per append, batched only if appends overlap);
 * - `batch`: leader/follower group commit, after the one write + one fdatasync of the commit that
 *   holds the entry. Commits of every series on one storage device take turns at least
 *   `batchWindowMs` apart (the window bounds the device's fsync rate; it adds no latency on an idle
 *   device): a lone series commits at once when none is in flight and the window has passed since
 *   the last start, and S series sharing a device each commit within S windows; appends arriving
 *   during a commit form the next one; a commit also starts early once `batchMaxBytes` wait
 *   (details in `commit.ts` and `pacer.ts`);
 * - `none`: after the write reaches the OS (survives a process crash, not a power cut).
 */
export type Durability = 'always' | 'batch' | 'none';

/**
 * A derived view: state folded from entries. Views are how the node derives all its state (session
 * counter, roster, reputation tallies, stored chunks, limiter windows) from the series.
 *
 * `apply` must be pure and deterministic, and the state must be plain CBOR-encodable data: it is
 * written into `snapshot` entries so that the view survives ring eviction
 * (derivation = last snapshot + fold of the entries after it). `apply` is never called with
 * `snapshot` entries. Keep state bounded: it lives in memory and in every snapshot.
 */
export interface View<S> {
  readonly name: string;
  /**
   * The events this view folds, when it folds only some: every other entry is not handed to
   * `apply` at all (the series folds every append into every view, so a view that names its events
   * costs nothing on the entries it ignores). `apply` must leave the state as it is for any other
   * event, as if it were called. Omitted: every event.
   */
  readonly events?: readonly string[];
  initial(): S;
  apply(state: S, entry: Entry): S;
}

export interface ReadQuery {
  /** Inclusive lower bound on seq. */
  fromSeq?: number;
  /** Inclusive upper bound on seq. */
  toSeq?: number;
  /** Only these event types. */
  event?: string | readonly string[];
  /** Inclusive lower bound on `t` (ms). `t` is not sorted: every entry in the seq range is checked. */
  fromT?: number;
  /** Inclusive upper bound on `t` (ms). */
  toT?: number;
  /** Called for each damaged region the read skips (fails its CRC or does not decode). */
  onDamaged?: (d: DamagedRegion) => void;
}

/** A region of a segment file a read skipped as damaged. */
export interface DamagedRegion {
  path: string;
  offset: number;
  bytes: number;
}

export interface SeriesOptions {
  /** Folder holding the segment files; created when missing. */
  dir: string;
  /** Default `batch`. */
  durability?: Durability;
  /** `batch`: minimum ms between commit starts on the folder's storage device (see pacer.ts). Default `DEFAULT_BATCH_WINDOW_MS` (board profiles override). */
  batchWindowMs?: number;
  /**
   * `batch`: start the commit before the window ends once this many bytes wait, bytes.
   * Default `DEFAULT_BATCH_MAX_BYTES` (64 KiB).
   */
  batchMaxBytes?: number;
  /** Size at which a segment is closed and a new one started, bytes. Default `DEFAULT_SEGMENT_BYTES`. */
  segmentBytes?: number;
  /** Ring budget: total bytes of segment files kept; whole oldest segments are dropped. Default `DEFAULT_BUDGET_BYTES`. */
  budgetBytes?: number;
  /** Largest encoded entry accepted, bytes. Default `MAX_ENTRY_BYTES`. */
  maxEntryBytes?: number;
  /** Views maintained live and written into snapshots. */
  views?: readonly View<unknown>[];
  clock?: Clock;
  /**
   * `batch`: the turns this series' commits take (see `createSyncPacer`). Default: on the real
   * clock, the one pacer this process keeps for the folder's storage device and window, shared by
   * every series there; on an injected clock, a pacer of its own.
   */
  syncPacer?: SyncPacer;
  log?: Logger;
  /**
   * Called once when a write or fsync fails and the series stops taking entries (the typed error).
   * Where writes are `record`ed, this is where their failure is heard.
   */
  onFailure?: (err: Error) => void;
  /** Called (synchronously, in order) each time the durable seq advances. */
  onDurable?: (durableSeq: number) => void;
  /** Open read-only: no recovery truncation, no appends (used by `verify`, `export`, `inspect`). */
  readOnly?: boolean;
}

/** What a scan of a series folder counts (open and `verify` both report these). */
export interface SeriesCounts {
  segments: number;
  entries: number;
  firstSeq: number;
  lastSeq: number;
  bytes: number;
  /** Bytes of a torn or zero-filled tail (cut at a writable open). */
  truncatedBytes: number;
  /** Records that failed their CRC and were skipped (never returned as data). */
  corruptRecords: number;
}

/** What open found and did. */
export interface OpenReport extends SeriesCounts {
  /** Entries folded into the views after the last snapshot. */
  foldedEntries: number;
}

export interface SeriesStats {
  segments: number;
  bytes: number;
  budgetBytes: number;
  firstSeq: number;
  lastSeq: number;
  durableSeq: number;
  evictedSegments: number;
  /** Damaged records the open skipped (failed their CRC or did not decode); `series verify` lists them. */
  damagedRecords: number;
}

/** A chunk (docs/protocol.md §8): its id is the lowercase hex SHA-256 of `bytes`, its exact CBOR encoding. */
export interface ChunkMap {
  v: 1;
  node: string;
  first_seq: number;
  last_seq: number;
  start_t: number;
  end_t: number;
  events: Entry[];
}

export interface Chunk {
  id: string;
  bytes: Uint8Array;
  chunk: ChunkMap;
}

export interface Series {
  /** Open or create: recover the tail, rebuild the views. No I/O happens before this. */
  open(): Promise<OpenReport>;
  /** Append one entry; resolves with it (seq and t stamped) once durable under the mode. */
  append(input: EntryInput): Promise<Entry>;
  /**
   * Append without a promise, for writes nobody awaits (a decision per intent answered, an outcome
   * per intent declared): the entry is stamped, framed and folded now (seq order = call order) and
   * returned; it becomes durable with its commit like any append. A bad entry, a closed or failed
   * series throw now (the errors `append` rejects with); a write or fsync failure after the call
   * fails the series, so every later `append`/`record` throws it, and `onFailure` hears it once.
   */
  record(input: EntryInput): Entry;
  /** Entries in seq order matching the query, streamed from disk (the ring is never loaded whole). */
  read(query?: ReadQuery): AsyncIterable<Entry>;
  /** The newest `n` entries matching the query, newest first. */
  tail(n: number, query?: Omit<ReadQuery, 'fromSeq' | 'toSeq'>): Promise<Entry[]>;
  /** Current state of a registered view. Throws if no view of that name was registered. */
  view<S>(name: string): S;
  /** Write a `snapshot` entry of every view now. */
  snapshot(): Promise<Entry>;
  /** The chunk of entries `fromSeq..toSeq` (inclusive, evicted ones absent), stamped with `node`. */
  chunk(fromSeq: number, toSeq: number, node: string): Promise<Chunk>;
  /** Resolve once everything appended so far is durable under the mode. */
  flush(): Promise<void>;
  /** Flush, then release files. */
  close(): Promise<void>;
  stats(): SeriesStats;
  /** `stats().bytes` without building the stats: the economic limiter reads it at every decision. */
  bytes(): number;
  readonly lastSeq: number;
  readonly durableSeq: number;
}

/** What a series' commits did (`commitStats()` on the implementation; benchmarks, metrics, status). */
export interface CommitStats {
  commits: number;
  /** Records written by those commits. */
  records: number;
  /** Bytes written to segment files since the open (records and segment headers). */
  writtenBytes: number;
  /** Syncs asked of the device since the open: O_DSYNC writes, fdatasyncs, folder fsyncs. */
  syncs: number;
  /** ms since the open (0 when read-only). */
  sinceMs: number;
}
