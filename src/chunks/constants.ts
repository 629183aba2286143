/**
 * Defaults of the chunks area, units in the names. Every option in `index.ts` documents which of
 * these it defaults to; `test/chunks/constants.test.ts` checks the documented values.
 */

/** Name of the series view that says what this node holds. */
export const CHUNKS_VIEW = 'chunks';

/** Sub-folder of the node's data dir holding one file per chunk, named by its id. */
export const CHUNKS_DIR_NAME = 'chunks';

/** Byte budget of the chunk store: 64 MiB (a Pi Zero's share; board profiles override). */
export const DEFAULT_STORE_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * Largest chunk accepted, bytes. The whole `store_chunk` envelope must fit the 1 MiB payload cap
 * (docs/protocol.md §4), so a chunk leaves room for the envelope around it.
 */
export const DEFAULT_MAX_CHUNK_BYTES = 768 * 1024;

/**
 * Bound of the in-memory index (and of the `chunks` view, which lives in every snapshot): at most
 * this many chunks are held; past it a store is refused (or the least recently wanted evicted).
 */
export const DEFAULT_MAX_CHUNKS = 65_536;

/** At most this many distinct event types are kept per chunk in the index (for `want_chunks`). */
export const MAX_EVENT_TYPES_PER_CHUNK = 32;

/** At most this many ids in one `want_chunks` YES (keeps the reply well under 1 MiB: ~70 B per id). */
export const MAX_IDS_PER_ANSWER = 4096;

/** Chunking policy: at most this many entries per chunk. */
export const DEFAULT_CHUNK_MAX_ENTRIES = 1024;

/** Chunking policy: at most this many encoded entry bytes per chunk (before the chunk's own header). */
export const DEFAULT_CHUNK_MAX_BYTES = 64 * 1024;

/** Replication target K: YES answers to `store_chunk` wanted for each chunk. */
export const DEFAULT_REPLICAS = 3;

/**
 * Chunks of a series push in flight at once (`pushSeries`): holders fsync one chunk while the next
 * travels. Memory: this many chunks. Figures with 1 and 4: docs/benchmarks.md.
 */
export const DEFAULT_PUSH_WINDOW = 4;

/** Chunks fetched at once by a pull (`ChunksService.pull`, `dameso chunks pull`). */
export const DEFAULT_PULL_WINDOW = 4;

/** Deadline of one `store_chunk` round, ms. */
export const DEFAULT_PUSH_DEADLINE_MS = 5_000;

/** Deadline of one `want_chunk` attempt, ms. */
export const DEFAULT_FETCH_DEADLINE_MS = 3_000;

/** `who_has`: stop collecting retained `have` records after this long without a new one, ms. */
export const DEFAULT_HAVE_QUIET_MS = 60;

/** `who_has`: never wait longer than this for retained `have` records, ms. */
export const DEFAULT_HAVE_MAX_WAIT_MS = 1_000;

/** `who_has`: at most this many holders are collected for one chunk. */
export const MAX_HOLDERS_PER_CHUNK = 256;

/**
 * At most this many `have` queries (one MQTT subscription each) at once; the transport allows 256
 * subscriptions per node in all. Past it a query ends empty and the fetch asks every bt node.
 */
export const MAX_LIVE_QUERIES = 64;

/**
 * Bytes of recently stored or served chunks kept in memory by the store (LRU), so hot chunks are
 * served without a file read queued behind the series' fsyncs on libuv's thread pool. Only
 * verified bytes enter (private copies); a file read is re-hashed every time. 8 MiB.
 */
export const DEFAULT_CACHE_BYTES = 8 * 1024 * 1024;

/**
 * Tracked `have` records (a node that tracks subscribes to `R/have/+/+` and keeps the newest
 * records, oldest chunk dropped first past the bound): discovery without a round trip. ~150 B each.
 */
export const MAX_TRACKED_HAVES = 50_000;

/** At start, `have` records are (re)published this many at a time (QoS 1, each acknowledged). */
export const ANNOUNCE_WINDOW = 64;

/** Prefix of temporary files in the chunks folder; never a valid id, removed at open. */
export const TEMP_PREFIX = '.tmp-';

/**
 * Storage nodes a running node backs its own series up to (`dameso node --replicate K`, config
 * `replicate`; 0 = off). A library node (`createChunksService()`) backs up only when given one.
 */
export const DEFAULT_REPLICATE = 3;

/** Largest `--replicate` accepted: a bound that catches a typo (a fleet keeps a few copies, not hundreds). */
export const MAX_REPLICATE = 64;

/** The background backup runs a round this often, ms (the next round is timed from the end of the last). */
export const BACKUP_ROUND_MS = 3_000;

/** At most this many chunks pushed per backup round (with 64 KiB chunks, 512 KiB a round). */
export const BACKUP_ROUND_MAX_CHUNKS = 8;

/**
 * Backup chunks in flight at once: one, so a crash leaves at most one chunk sent but not marked,
 * and a board holds one chunk of backup in memory.
 */
export const BACKUP_PUSH_WINDOW = 1;

/**
 * A backup pushes full chunks as soon as they settled; a short tail (a partial chunk) waits until
 * it has been pending this long, ms, so a slow stream is not scattered over many tiny chunks.
 */
export const BACKUP_PARTIAL_AFTER_MS = 60_000;

/**
 * At least this long between two `backup` entries, ms: a backup state that flaps (the limiters'
 * pressure around a threshold) writes at most one entry per gap, not one per round.
 */
export const BACKUP_ENTRY_MIN_GAP_MS = 30_000;

/** Name of the series view holding the last seq that is not replication bookkeeping. */
export const BACKUP_VIEW = 'backup';
