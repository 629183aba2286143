/**
 * Reading from disk without loading the ring: entries by seq range, time range and event type,
 * and the newest-first tail. Segments are streamed one read window at a time; damaged records are
 * skipped (the scanner never returns them), evicted segments are simply absent.
 *
 * Reads see what has been written to the segment files, which may include entries whose commit
 * has not finished its fdatasync yet (under `batch`/`always` they are durable moments later, or the
 * series fails). Entries still waiting in the commit queue are not visible.
 */
import { constants as fsc } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { decode } from 'cbor-x';
import { type ScanItem, scanSegment } from './scan.js';
import type { SegmentInfo } from './segments.js';
import type { Entry, ReadQuery } from './types.js';

/** Decode a CRC-valid payload; undefined when it is not an entry map for `seq`. */
export function decodeEntry(payload: Buffer, seq: number): Entry | undefined {
  let e: unknown;
  try {
    e = decode(payload);
  } catch {
    return undefined;
  }
  if (typeof e !== 'object' || e === null || Object.getPrototypeOf(e) !== Object.prototype) return undefined;
  const r = e as Record<string, unknown>;
  if (r.seq !== seq || typeof r.t !== 'number' || typeof r.event !== 'string') return undefined;
  return r as Entry;
}

/** Stream the scan items of one segment; an evicted (unlinked) segment yields nothing. */
export async function* scanFile(seg: SegmentInfo): AsyncGenerator<ScanItem> {
  let fh: FileHandle;
  try {
    fh = await open(seg.path, fsc.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    // The size is taken now: for the active segment, what has been written so far.
    yield* scanSegment(fh, seg.size, seg.firstSeq);
  } finally {
    await fh.close();
  }
}

type Filter = (e: Entry) => boolean;

export function entryFilter(q: Omit<ReadQuery, 'fromSeq' | 'toSeq'>): Filter {
  const events = q.event === undefined ? undefined : new Set(typeof q.event === 'string' ? [q.event] : q.event);
  const fromT = q.fromT ?? Number.NEGATIVE_INFINITY;
  const toT = q.toT ?? Number.POSITIVE_INFINITY;
  return (e) => (events === undefined || events.has(e.event)) && e.t >= fromT && e.t <= toT;
}

/** Entries of `segs` (oldest first) in seq order matching `q`. */
export async function* readEntries(segs: readonly SegmentInfo[], q: ReadQuery = {}): AsyncGenerator<Entry> {
  const fromSeq = q.fromSeq ?? 1;
  const toSeq = q.toSeq ?? Number.MAX_SAFE_INTEGER;
  const keep = entryFilter(q);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const next = segs[i + 1];
    if (seg.firstSeq > toSeq) return;
    if (next && next.firstSeq <= fromSeq) continue;
    for await (const item of scanFile(seg)) {
      if (item.kind !== 'record') continue;
      const seq = item.header.seq;
      if (seq < fromSeq) continue;
      if (seq > toSeq) return;
      const e = decodeEntry(item.payload, seq);
      if (e && keep(e)) yield e;
    }
  }
}

/** The newest `n` entries of `segs` matching `q`, newest first; memory is bounded by `n`. */
export async function tailEntries(
  segs: readonly SegmentInfo[],
  n: number,
  q: Omit<ReadQuery, 'fromSeq' | 'toSeq'> = {},
): Promise<Entry[]> {
  const out: Entry[] = [];
  if (n <= 0) return out;
  const keep = entryFilter(q);
  for (let i = segs.length - 1; i >= 0 && out.length < n; i--) {
    const need = n - out.length;
    // A ring of the last `need` matches of this segment.
    const ring: Entry[] = [];
    let head = 0;
    for await (const item of scanFile(segs[i]!)) {
      if (item.kind !== 'record') continue;
      const e = decodeEntry(item.payload, item.header.seq);
      if (!e || !keep(e)) continue;
      if (ring.length < need) ring.push(e);
      else {
        ring[head] = e;
        head = (head + 1) % need;
      }
    }
    for (let k = ring.length - 1; k >= 0; k--) out.push(ring[(head + k) % ring.length]!);
  }
  return out;
}
