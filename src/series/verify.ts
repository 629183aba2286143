/**
 * Whole-series checks for operators (`dameso series verify` / `inspect`): a read-only full scan of
 * every segment, one read window at a time. Nothing is modified.
 */
import { constants as fsc } from 'node:fs';
import { open } from 'node:fs/promises';
import { RECORD_SNAPSHOT } from './constants.js';
import { liveWriter } from './lock.js';
import { decodeEntry } from './read.js';
import { scanSegment } from './scan.js';
import { listSegments, readSegmentHeader, type SegmentInfo } from './segments.js';
import type { SeriesCounts } from './types.js';

/** Distinct event names counted per series; beyond it they are counted under `…other`. */
export const MAX_EVENT_NAMES = 1000;

export interface SegmentReport {
  file: string;
  firstSeq: number;
  /** Highest valid seq in the segment (firstSeq - 1 when it has none). */
  lastSeq: number;
  bytes: number;
  records: number;
  /** Damaged regions skipped (records that fail their CRC or do not decode). */
  corruptRecords: number;
  /** Bytes of a torn or zero-filled tail (cut at the next writable open). */
  tornTailBytes: number;
  /** The segment header is torn (a crash while creating it). */
  tornHeader: boolean;
  /** The file vanished during the scan: a live writer's ring evicted it (nothing counted from it). */
  evicted: boolean;
}

export interface VerifyReport extends SeriesCounts {
  sound: boolean;
  dir: string;
  /** Seqs missing inside the retained range (only damage makes them). */
  missingSeqs: number;
  /**
   * Pid of the live process holding the series' lock (a writer appending during the scan), else
   * null. Its torn tail is then a record being written: counted in `inProgressBytes`, not in
   * `truncatedBytes`.
   */
  writerPid: number | null;
  /** Bytes of the last segment's torn tail while a live writer holds the lock. */
  inProgressBytes: number;
  /** Segments the live writer's ring evicted while the scan ran. */
  evictedSegments: number;
  perSegment: SegmentReport[];
  events: Record<string, number>;
  /** View names and the encoded size of their state in the newest snapshot. */
  lastSnapshot: { seq: number; views: Record<string, number> } | null;
}

async function scanOne(seg: SegmentInfo, report: VerifyReport, state: { prevSeq: number }): Promise<SegmentReport> {
  const r: SegmentReport = {
    file: seg.path,
    firstSeq: seg.firstSeq,
    lastSeq: seg.firstSeq - 1,
    bytes: seg.size,
    records: 0,
    corruptRecords: 0,
    tornTailBytes: 0,
    tornHeader: false,
    evicted: false,
  };
  const header = await readSegmentHeader(seg);
  if (header !== 'ok') {
    r.tornHeader = header === 'torn';
    r.evicted = header === 'gone';
    return r;
  }
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(seg.path, fsc.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    r.evicted = true;
    return r;
  }
  try {
    for await (const it of scanSegment(fh, seg.size, seg.firstSeq)) {
      if (it.kind === 'corrupt') r.corruptRecords++;
      else if (it.kind === 'tail') r.tornTailBytes = it.bytes;
      else {
        const e = decodeEntry(it.payload, it.header.seq);
        if (!e) {
          r.corruptRecords++;
          continue;
        }
        r.records++;
        r.lastSeq = e.seq;
        if (state.prevSeq > 0 && e.seq !== state.prevSeq + 1) report.missingSeqs += e.seq - state.prevSeq - 1;
        state.prevSeq = e.seq;
        const names = Object.keys(report.events);
        const key = e.event in report.events || names.length < MAX_EVENT_NAMES ? e.event : '…other';
        report.events[key] = (report.events[key] ?? 0) + 1;
        if (it.header.type === RECORD_SNAPSHOT && e.views && typeof e.views === 'object') {
          const views: Record<string, number> = {};
          for (const [k, v] of Object.entries(e.views)) views[k] = JSON.stringify(v ?? null).length;
          report.lastSnapshot = { seq: e.seq, views };
        }
      }
    }
  } finally {
    await fh.close();
  }
  return r;
}

/**
 * Scan every segment of `dir` read-only. `sound` = no corrupt record, no missing seq, no torn
 * sealed segment. Beside a live writer (it holds the lock), the torn tail of the last segment is a
 * write in progress and segments its ring evicts during the scan are left out, not damage.
 */
export async function verifySeries(dir: string): Promise<VerifyReport> {
  const segs = await listSegments(dir, true);
  const report: VerifyReport = {
    sound: true,
    dir,
    segments: 0,
    entries: 0,
    firstSeq: 0,
    lastSeq: 0,
    bytes: 0,
    truncatedBytes: 0,
    corruptRecords: 0,
    missingSeqs: 0,
    writerPid: (await liveWriter(dir)) ?? null,
    inProgressBytes: 0,
    evictedSegments: 0,
    perSegment: [],
    events: {},
    lastSnapshot: null,
  };
  const state = { prevSeq: 0 };
  for (let i = 0; i < segs.length; i++) {
    const r = await scanOne(segs[i]!, report, state);
    if (r.evicted) {
      // Everything older went with it: the seqs up to here are evicted, not missing.
      report.evictedSegments++;
      state.prevSeq = 0;
      report.firstSeq = 0;
      continue;
    }
    count(report, r, i === segs.length - 1);
  }
  // A torn tail on the last segment is the normal trace of a crash mid-write (never acknowledged)
  // or a write in progress: reported, and not a reason to call the series unsound.
  report.sound = report.corruptRecords === 0 && report.missingSeqs === 0;
  return report;
}

function count(report: VerifyReport, r: SegmentReport, last: boolean): void {
  report.perSegment.push(r);
  report.segments++;
  report.bytes += r.bytes;
  report.entries += r.records;
  report.corruptRecords += r.corruptRecords;
  const tail = r.tornHeader ? r.bytes : r.tornTailBytes;
  if (tail > 0 && !last) report.corruptRecords++;
  else if (report.writerPid !== null) report.inProgressBytes += tail;
  else report.truncatedBytes += tail;
  if (r.records > 0) {
    if (report.firstSeq === 0) report.firstSeq = r.firstSeq;
    report.lastSeq = r.lastSeq;
  }
}
