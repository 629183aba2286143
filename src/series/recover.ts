/**
 * Open-time recovery: check segment headers, scan the last segment, cut a torn or zero-filled
 * tail, drop a segment whose creation was cut by a crash, and rebuild the views from the last
 * snapshot + the fold of what follows it. Only the last segment is read in the common case.
 */
import { constants as fsc } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { READ_ONLY_LIST_ATTEMPTS, RECORD_SNAPSHOT, SEGMENT_HEADER_BYTES } from './constants.js';
import { ioError } from './errors.js';
import { decodeEntry, scanFile } from './read.js';
import { scanSegment } from './scan.js';
import { listSegments, readSegmentHeader, type SegmentInfo, syncDir } from './segments.js';
import type { OpenReport } from './types.js';
import type { ViewSet } from './views.js';

export interface Recovered {
  segments: SegmentInfo[];
  /** Highest seq retained (or consumed by a dropped segment): the next append gets lastSeq + 1. */
  lastSeq: number;
  report: OpenReport;
  /** Records in the last segment (0 for a fresh series). */
  lastSegmentRecords: number;
}

interface TailScan {
  records: number;
  lastSeq: number;
  corrupt: number;
  tailAt: number | undefined;
}

/** The last segment vanished under a read-only open: the ring of a live writer passed it. */
class SegmentGone extends Error {}

async function scanTail(seg: SegmentInfo): Promise<TailScan> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(seg.path, fsc.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SegmentGone(seg.path);
    throw ioError('open', seg.path, err);
  }
  const r: TailScan = { records: 0, lastSeq: seg.firstSeq - 1, corrupt: 0, tailAt: undefined };
  try {
    for await (const it of scanSegment(fh, seg.size, seg.firstSeq)) {
      if (it.kind === 'record') {
        r.records++;
        r.lastSeq = it.header.seq;
      } else if (it.kind === 'corrupt') r.corrupt++;
      else r.tailAt = it.offset;
    }
  } finally {
    await fh.close();
  }
  return r;
}

async function truncateTo(seg: SegmentInfo, size: number): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(seg.path, fsc.O_RDWR);
    await fh.truncate(size);
    await fh.datasync();
  } catch (err) {
    throw ioError('truncate', seg.path, err);
  } finally {
    await fh?.close().catch(() => undefined);
  }
  seg.size = size;
}

async function drop(dir: string, seg: SegmentInfo): Promise<void> {
  try {
    await unlink(seg.path);
  } catch (err) {
    throw ioError('unlink', seg.path, err);
  }
  await syncDir(dir);
}

/**
 * A read-only open never writes: the torn tail stays (it may be a record a live writer is
 * writing), nothing is dropped, and a listing that a live writer's ring eviction made stale is
 * taken again.
 */
export async function recover(dir: string, readOnly: boolean, views: ViewSet, log: Logger): Promise<Recovered> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await recoverOnce(dir, readOnly, views, log);
    } catch (err) {
      if (!(err instanceof SegmentGone) || attempt >= READ_ONLY_LIST_ATTEMPTS) throw err;
    }
  }
}

async function recoverOnce(dir: string, readOnly: boolean, views: ViewSet, log: Logger): Promise<Recovered> {
  const all = await listSegments(dir, readOnly);
  let truncatedBytes = 0;
  let corruptRecords = 0;
  const segments: SegmentInfo[] = [];
  for (let i = 0; i < all.length; i++) {
    const seg = all[i]!;
    const header = await readSegmentHeader(seg);
    if (header === 'ok') segments.push(seg);
    else if (header === 'gone')
      continue; // evicted since the listing (read-only beside a writer)
    else if (i < all.length - 1) {
      // A sealed segment whose header is gone: its records cannot be trusted; skip it, report it.
      corruptRecords++;
      log.error({ path: seg.path }, 'series segment header torn; segment skipped');
    } else {
      truncatedBytes += seg.size;
      if (!readOnly) await drop(dir, seg);
    }
  }
  let floorSeq = 0;
  let lastSegmentRecords = 0;
  let lastSeq = 0;
  while (segments.length > 0) {
    const seg = segments[segments.length - 1]!;
    const scan = await scanTail(seg);
    corruptRecords += scan.corrupt;
    if (scan.tailAt !== undefined) {
      truncatedBytes += seg.size - scan.tailAt;
      if (readOnly) log.debug({ path: seg.path, at: scan.tailAt }, 'series torn tail left as it is (read-only)');
      else {
        await truncateTo(seg, scan.tailAt);
        log.warn({ path: seg.path, at: scan.tailAt }, 'series torn tail cut at open');
      }
    }
    if (scan.records === 0) {
      // Nothing valid (a crash during rotation): the seqs before this segment's first stay used.
      floorSeq = Math.max(floorSeq, seg.firstSeq - 1);
      if (scan.tailAt === undefined) truncatedBytes += Math.max(0, seg.size - SEGMENT_HEADER_BYTES);
      if (!readOnly) await drop(dir, seg);
      segments.pop();
      continue;
    }
    lastSegmentRecords = scan.records;
    lastSeq = scan.lastSeq;
    break;
  }
  lastSeq = Math.max(lastSeq, floorSeq);
  const rebuilt = await rebuildViews(segments, views, log);
  const foldedEntries = rebuilt.folded;
  // The last segment's damage was counted by its tail scan; the older ones' by the rebuild.
  corruptRecords += rebuilt.damagedBeforeLast;
  if (corruptRecords > 0) {
    log.warn(
      { dir, corruptRecords },
      `series ${dir}: ${corruptRecords} damaged record(s) skipped at open; run \`dameso series verify --dir ${dir}\``,
    );
  }
  const bytes = segments.reduce((a, s) => a + s.size, 0);
  const firstSeq = segments[0]?.firstSeq ?? lastSeq + 1;
  return {
    segments,
    lastSeq,
    lastSegmentRecords,
    report: {
      segments: segments.length,
      entries: segments.length > 0 ? lastSeq - firstSeq + 1 : 0,
      firstSeq: segments.length > 0 ? firstSeq : 0,
      lastSeq,
      bytes,
      truncatedBytes,
      corruptRecords,
      foldedEntries,
    },
  };
}

/** Does the segment start with its snapshot (first record, seq = first seq, intact)? */
async function startsWithSnapshot(seg: SegmentInfo): Promise<boolean> {
  for await (const it of scanFile(seg)) {
    return it.kind === 'record' && it.header.type === RECORD_SNAPSHOT && it.header.seq === seg.firstSeq;
  }
  return false;
}

/**
 * derivation = last snapshot + fold of the entries after it. Normally the last segment's own
 * snapshot; if that record is damaged, walk back to an older segment's snapshot and fold forward.
 */
async function rebuildViews(
  segments: SegmentInfo[],
  views: ViewSet,
  log: Logger,
): Promise<{ folded: number; damagedBeforeLast: number }> {
  views.restore(undefined);
  if (segments.length === 0 || views.names.length === 0) return { folded: 0, damagedBeforeLast: 0 };
  let damagedBeforeLast = 0;
  let start = segments.length - 1;
  while (start > 0 && !(await startsWithSnapshot(segments[start]!))) start--;
  let folded = 0;
  let first = true;
  for (let i = start; i < segments.length; i++) {
    let seen = false;
    for await (const it of scanFile(segments[i]!)) {
      seen = true;
      const beforeLast = i < segments.length - 1;
      if (it.kind !== 'record') {
        if (it.kind === 'corrupt' && beforeLast) damagedBeforeLast++;
        continue;
      }
      const e = decodeEntry(it.payload, it.header.seq);
      if (!e) {
        if (beforeLast) damagedBeforeLast++;
        continue;
      }
      if (first && it.header.type === RECORD_SNAPSHOT) views.restore(e.views as Record<string, unknown> | undefined);
      else if (it.header.type !== RECORD_SNAPSHOT) {
        views.apply(e);
        folded++;
      }
      if (first && it.header.type !== RECORD_SNAPSHOT) {
        log.warn({ seq: e.seq }, 'series views rebuilt without a snapshot: folded from the oldest retained entry');
      }
      first = false;
    }
    // Evicted under a read-only open: the next segment's opening snapshot holds what it folded.
    if (!seen) first = true;
  }
  return { folded, damagedBeforeLast };
}
