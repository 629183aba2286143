/**
 * Series defaults and format constants, with units in the names. Board profiles override the
 * defaults through `SeriesOptions`; the format constants are the on-disk contract.
 */

/** `batch` durability: minimum interval between the starts of two commits, ms (bounds fsyncs/s). */
export const DEFAULT_BATCH_WINDOW_MS = 10;
/**
 * `batch`: a commit starts before its window ends once this many bytes wait (64 KiB), so a busy
 * series is not throttled to one commit per window.
 */
export const DEFAULT_BATCH_MAX_BYTES = 64 * 1024;
/** A segment is closed and a new one started once it would grow past this, bytes (4 MiB). */
export const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;
/** Ring budget: total bytes of segment files kept (64 MiB). */
export const DEFAULT_BUDGET_BYTES = 64 * 1024 * 1024;
/** Largest encoded entry accepted, bytes: a 1 MiB wire payload plus 64 KiB for its fields. */
export const MAX_ENTRY_BYTES = 1024 * 1024 + 64 * 1024;
/**
 * Hard framing limit of one record, bytes (16 MiB). Entries are bounded by `maxEntryBytes`;
 * snapshots (whose size follows the views' state) by this. Recovery treats a larger length as
 * garbage.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/**
 * Bound of the append queue, bytes (32 MiB): encoded records waiting for their commit. Beyond it
 * `append` rejects with `DAMESO_SERIES_BUSY` instead of growing memory without limit.
 */
export const MAX_QUEUED_BYTES = 32 * 1024 * 1024;
/** Most bytes read from a segment at a time while scanning (1 MiB; grows to fit one record). */
export const READ_BLOCK_BYTES = 1024 * 1024;
/**
 * The first read of a scan, bytes (16 KiB); each further read doubles, up to READ_BLOCK_BYTES. A
 * lookup of a few entries (an answer's bounded read) then costs one small read, not a 1 MiB
 * buffer and as much of the segment; a long scan reaches full-size reads after a few.
 */
export const READ_FIRST_BLOCK_BYTES = 16 * 1024;

/** On-disk format version written in every segment header. A newer one is refused. */
export const FORMAT_VERSION = 1;
/** Segment header magic: PNG-style, so text-mode mangling and foreign files are caught. */
export const SEGMENT_MAGIC = Buffer.from([0x89, 0x44, 0x53, 0x45, 0x52, 0x0d, 0x0a, 0x1a]); // "\x89DSER\r\n\x1a"
/** magic(8) version u16 flags u16 firstSeq u64 crc32 u32. */
export const SEGMENT_HEADER_BYTES = 24;
/** crc32 u32 (over all that follows it), type u8, length u32, seq u64. */
export const RECORD_HEADER_BYTES = 17;
/** Record types (0 is never valid, so a zero-filled tail is never a record). */
export const RECORD_ENTRY = 1;
export const RECORD_SNAPSHOT = 2;
/** Segment files: first seq, zero-padded to 20 digits, `.seg`. */
export const SEGMENT_SUFFIX = '.seg';
export const SEGMENT_NAME_DIGITS = 20;
/** The event name of snapshot entries (reserved: `append` refuses it). */
export const SNAPSHOT_EVENT = 'snapshot';
/**
 * Times a read-only open lists the folder again when the newest segment it listed vanished (the
 * ring of a writer in another process passed it while the open read).
 */
export const READ_ONLY_LIST_ATTEMPTS = 5;
