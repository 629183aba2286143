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
import { decodeEntry as decodeEntryBytes } from '../cbor/index.js';
import { type ScanItem, scanSegment } from './scan.js';
import type { SegmentInfo } from './segments.js';
import type { Entry, ReadQuery } from './types.js';

/** Decode a CRC-valid payload; undefined when it is not an entry map for `seq`. */
export function decodeEntry(payload: Buffer, seq: number): Entry | undefined {
  let e: unknown;
  try {
    e = decodeEntryBytes(payload);
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

/** Length argument of a CBOR head at `i`: [value, bytes of head], or undefined. */
function head(b: Buffer, i: number): [number, number] | undefined {
  const ai = b[i]! & 0x1f;
  if (ai < 24) return [ai, 1];
  if (ai === 24) return i + 1 < b.length ? [b[i + 1]!, 2] : undefined;
  if (ai === 25) return i + 2 < b.length ? [b.readUInt16BE(i + 1), 3] : undefined;
  if (ai === 26) return i + 4 < b.length ? [b.readUInt32BE(i + 1), 5] : undefined;
  if (ai === 27) return i + 8 < b.length ? [0, 9] : undefined;
  return undefined;
}

/**
 * The `event` of an encoded entry without decoding it: entries start `{seq, t, event, …}`, so
 * a filtered scan decodes only the entries it returns. Undefined (decode instead) on any layout
 * it does not expect.
 */
export function peekEvent(b: Buffer): string | undefined {
  if (b.length === 0 || b[0]! >> 5 !== 5) return undefined;
  const m = head(b, 0);
  if (!m) return undefined;
  let i = m[1];
  for (let pair = 0; pair < Math.min(3, m[0]); pair++) {
    if (i >= b.length || b[i]! >> 5 !== 3) return undefined;
    const k = head(b, i);
    if (!k) return undefined;
    const key = b.toString('latin1', i + k[1], i + k[1] + k[0]);
    i += k[1] + k[0];
    if (i >= b.length) return undefined;
    const major = b[i]! >> 5;
    const v = head(b, i);
    if (!v) return undefined;
    if (key === 'event') return major === 3 ? b.toString('utf8', i + v[1], i + v[1] + v[0]) : undefined;
    if (major !== 0 && major !== 1 && major !== 7) return undefined;
    i += v[1];
  }
  return undefined;
}

type Filter = (e: Entry) => boolean;

export function entryFilter(q: Omit<ReadQuery, 'fromSeq' | 'toSeq'>): Filter {
  const events = q.event === undefined ? undefined : new Set(typeof q.event === 'string' ? [q.event] : q.event);
  const fromT = q.fromT ?? Number.NEGATIVE_INFINITY;
  const toT = q.toT ?? Number.POSITIVE_INFINITY;
  return (e) => (events === undefined || events.has(e.event)) && e.t >= fromT && e.t <= toT;
}

/** True for a payload whose peeked event is not wanted (never true when the peek fails). */
function eventSkipper(q: Omit<ReadQuery, 'fromSeq' | 'toSeq'>): (payload: Buffer) => boolean {
  if (q.event === undefined) return () => false;
  const events = new Set(typeof q.event === 'string' ? [q.event] : q.event);
  return (payload) => {
    const ev = peekEvent(payload);
    return ev !== undefined && !events.has(ev);
  };
}

/** Entries of `segs` (oldest first) in seq order matching `q`. */
export async function* readEntries(segs: readonly SegmentInfo[], q: ReadQuery = {}): AsyncGenerator<Entry> {
  const fromSeq = q.fromSeq ?? 1;
  const toSeq = q.toSeq ?? Number.MAX_SAFE_INTEGER;
  const fromT = q.fromT ?? Number.NEGATIVE_INFINITY;
  const toT = q.toT ?? Number.POSITIVE_INFINITY;
  const timed = q.fromT !== undefined || q.toT !== undefined;
  const keep = entryFilter(q);
  const skip = eventSkipper(q);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const next = segs[i + 1];
    if (seg.firstSeq > toSeq) return;
    if (next && next.firstSeq <= fromSeq) continue;
    if (timed && seg.minT !== undefined && seg.maxT !== undefined && (seg.maxT < fromT || seg.minT > toT)) continue;
    // Learn this sealed segment's t bounds when this scan sees every record's t.
    let learn = timed && next !== undefined && seg.minT === undefined && fromSeq <= seg.firstSeq;
    let minT = Number.POSITIVE_INFINITY;
    let maxT = Number.NEGATIVE_INFINITY;
    for await (const item of scanFile(seg)) {
      if (item.kind !== 'record') {
        if (item.kind === 'tail') learn = false;
        if (item.kind === 'corrupt') q.onDamaged?.({ path: seg.path, offset: item.offset, bytes: item.bytes });
        continue;
      }
      const seq = item.header.seq;
      if (seq < fromSeq) continue;
      if (seq > toSeq) return;
      if (skip(item.payload)) {
        learn = false;
        continue;
      }
      const e = decodeEntry(item.payload, seq);
      if (!e) {
        q.onDamaged?.({ path: seg.path, offset: item.offset, bytes: item.payload.length });
        continue;
      }
      if (e.t < minT) minT = e.t;
      if (e.t > maxT) maxT = e.t;
      if (keep(e)) yield e;
    }
    if (learn && minT <= maxT) {
      seg.minT = minT;
      seg.maxT = maxT;
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
  const skip = eventSkipper(q);
  for (let i = segs.length - 1; i >= 0 && out.length < n; i--) {
    const need = n - out.length;
    // A ring of the last `need` matches of this segment.
    const ring: Entry[] = [];
    let head = 0;
    for await (const item of scanFile(segs[i]!)) {
      if (item.kind !== 'record' || skip(item.payload)) continue;
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
