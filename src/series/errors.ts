/**
 * Series errors: one class per condition, each with a stable code (one line for the user, no stack).
 * `src/cli/exit.ts` maps the codes to exit statuses.
 */
import { DamesoError, messageOf } from '../errors.js';

/** The folder or file is not a dameso series (no segments, foreign files, bad magic). */
export class NotASeriesError extends DamesoError {
  constructor(path: string, why: string) {
    super(
      'DAMESO_NOT_A_SERIES',
      `${path} is not a dameso series (${why}); point --dir at a series folder or an empty one`,
    );
  }
}

/** A segment written by a newer format version. */
export class SeriesFormatError extends DamesoError {
  constructor(path: string, version: number, supported: number) {
    super(
      'DAMESO_SERIES_FORMAT',
      `${path} has series format version ${version}; this dameso reads up to ${supported}: upgrade dameso`,
    );
  }
}

/** Damage that cannot be skipped (a segment header failing its CRC). */
export class SeriesCorruptError extends DamesoError {
  constructor(path: string, why: string) {
    super('DAMESO_SERIES_CORRUPT', `${path}: ${why}; run \`dameso series verify\` and restore the segment`);
  }
}

export class FsyncFailedError extends DamesoError {
  constructor(path: string, cause: unknown) {
    super(
      'DAMESO_FSYNC_FAILED',
      `fdatasync of ${path} failed; the segment is fatal (the kernel may have dropped the dirty pages), ` +
        'reopen the series to recover from what is on disk',
      { cause },
    );
  }
}

export class SeriesIoError extends DamesoError {
  constructor(op: string, path: string, cause: unknown) {
    super('DAMESO_IO', `${op} ${path} failed: ${messageOf(cause)}`, { cause });
  }
}

export class NoSpaceError extends DamesoError {
  constructor(path: string, cause: unknown) {
    super(
      'DAMESO_NO_SPACE',
      `no space left while writing ${path}; free space or lower the budget, then reopen (durable entries are kept)`,
      { cause },
    );
  }
}

export class ReadOnlyError extends DamesoError {
  constructor(path: string, cause: unknown) {
    super(
      'DAMESO_READ_ONLY',
      `cannot write ${path} (read-only file system or no permission); remount read-write or open with readOnly`,
      { cause },
    );
  }
}

export class EntryTooLargeError extends DamesoError {
  constructor(bytes: number, max: number) {
    super('DAMESO_ENTRY_TOO_LARGE', `entry encodes to ${bytes} bytes, above the ${max}-byte bound; split it`);
  }
}

export class BadEntryError extends DamesoError {
  constructor(why: string, cause?: unknown) {
    super('DAMESO_BAD_ENTRY', `bad entry: ${why}`, { cause });
  }
}

/** The series failed earlier (fsync/write error) or was closed. */
export class SeriesClosedError extends DamesoError {
  constructor(why: string) {
    super('DAMESO_SERIES_CLOSED', `series is ${why}; open it again`);
  }
}

export class SeriesBusyError extends DamesoError {
  constructor(queuedBytes: number) {
    super('DAMESO_SERIES_BUSY', `${queuedBytes} bytes already wait for their commit; await earlier appends first`);
  }
}

export class UnknownViewError extends DamesoError {
  constructor(name: string) {
    super('DAMESO_UNKNOWN_VIEW', `no view named "${name}" was registered in SeriesOptions.views`);
  }
}

export class ChunkEmptyError extends DamesoError {
  constructor(fromSeq: number, toSeq: number) {
    super('DAMESO_CHUNK_EMPTY', `no retained entries in seq ${fromSeq}..${toSeq}`);
  }
}

/** Map a Node fs error to the typed error callers match on. */
export function ioError(
  op: 'write' | 'fsync' | 'open' | 'read' | 'truncate' | 'unlink',
  path: string,
  err: unknown,
): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new NoSpaceError(path, err);
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return new ReadOnlyError(path, err);
  if (op === 'fsync') return new FsyncFailedError(path, err);
  return new SeriesIoError(op, path, err);
}
