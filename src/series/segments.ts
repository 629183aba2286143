/**
 * The folder of segment files: listing, header checks, creating a segment durably.
 */
import { constants as fsc } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../fsync-dir.js';
import { FORMAT_VERSION, SEGMENT_HEADER_BYTES } from './constants.js';
import { ioError, NotASeriesError, SeriesCorruptError, SeriesFormatError } from './errors.js';
import { checkSegmentHeader, parseSegmentName } from './format.js';

/** One segment in the in-memory index (the only per-segment memory the series keeps). */
export interface SegmentInfo {
  firstSeq: number;
  path: string;
  /** Bytes in the file (for the active segment: bytes written so far). */
  size: number;
  /**
   * Min/max `t` of a sealed segment, learnt the first time a time-range read scanned it whole
   * (sealed segments never change), so later time-range reads skip it. Unknown until then.
   */
  minT?: number;
  maxT?: number;
}

/** Files a series folder may hold besides segments (none yet; dotfiles are ignored). */
function isIgnorable(name: string): boolean {
  return name.startsWith('.') || name === 'lost+found';
}

/** Where a node keeps its series inside its data folder (the node's SERIES_SUBDIR). */
const NODE_SERIES_FOLDER = 'series';

/**
 * List the segments of `dir`, oldest first. A missing folder is created unless `readOnly`.
 * A folder with files but no segment is refused: it is someone else's.
 */
export async function listSegments(dir: string, readOnly: boolean): Promise<SegmentInfo[]> {
  let names: string[];
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new NotASeriesError(dir, 'a file, not a folder');
    names = await readdir(dir);
  } catch (err) {
    if (err instanceof NotASeriesError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new NotASeriesError(dir, 'a file, not a folder');
    if (code !== 'ENOENT') throw ioError('open', dir, err);
    if (readOnly) throw new NotASeriesError(dir, 'no such folder');
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw ioError('open', dir, e);
    }
    names = [];
  }
  const segs: SegmentInfo[] = [];
  const foreign: string[] = [];
  for (const name of names) {
    const first = parseSegmentName(name);
    if (first !== undefined) segs.push({ firstSeq: first, path: join(dir, name), size: 0 });
    else if (!isIgnorable(name)) foreign.push(name);
  }
  if (segs.length === 0 && foreign.length > 0) {
    // A node's data folder holds its series in `series/`: the commonest slip, so name the fix.
    if (foreign.includes(NODE_SERIES_FOLDER)) {
      throw new NotASeriesError(dir, `a node's data folder? its series is ${join(dir, NODE_SERIES_FOLDER)}`);
    }
    throw new NotASeriesError(dir, `it holds ${foreign.length} other file(s), e.g. ${foreign[0]}`);
  }
  segs.sort((a, b) => a.firstSeq - b.firstSeq);
  return sized(segs);
}

/**
 * Each segment with its size, leaving out those gone since the listing: a writer in another
 * process may evict (unlink) its oldest segments while a read-only open lists the folder.
 */
async function sized(segs: SegmentInfo[]): Promise<SegmentInfo[]> {
  const out: SegmentInfo[] = [];
  for (const s of segs) {
    try {
      s.size = (await stat(s.path)).size;
      out.push(s);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('read', s.path, err);
    }
  }
  return out;
}

/** `gone`: the file vanished after the listing (evicted by the writer of a live series). */
export type HeaderState = 'ok' | 'torn' | 'gone';

/** Check one segment's header; throws the typed error for foreign, newer or corrupt headers. */
export async function readSegmentHeader(seg: SegmentInfo): Promise<HeaderState> {
  let fh: FileHandle | undefined;
  try {
    try {
      fh = await open(seg.path, fsc.O_RDONLY);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw err;
    }
    const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
    const { bytesRead } = await fh.read(b, 0, SEGMENT_HEADER_BYTES, 0);
    const h = checkSegmentHeader(b.subarray(0, bytesRead));
    switch (h.kind) {
      case 'ok':
        if (h.firstSeq !== seg.firstSeq) throw new SeriesCorruptError(seg.path, `header says first seq ${h.firstSeq}`);
        return 'ok';
      case 'torn':
        return 'torn';
      case 'foreign':
        throw new NotASeriesError(seg.path, 'no dameso segment magic');
      case 'newer':
        throw new SeriesFormatError(seg.path, h.version, FORMAT_VERSION);
      default:
        throw new SeriesCorruptError(seg.path, 'segment header fails its CRC');
    }
  } catch (err) {
    if (err instanceof Error && 'code' in err && String(err.code).startsWith('DAMESO_')) throw err;
    throw ioError('read', seg.path, err);
  } finally {
    await fh?.close();
  }
}

/** fsync a folder so a created or removed file name survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  try {
    await fsyncDir(dir);
  } catch (err) {
    throw ioError('fsync', dir, err);
  }
}
