/**
 * Streaming scan of one segment file: yields its records in order, skips damaged bytes, and says
 * where a torn tail starts. Memory: one read window (READ_FIRST_BLOCK_BYTES doubling up to
 * READ_BLOCK_BYTES, grown to fit one record), never the whole segment.
 *
 * Recovery rule: at a position that is not a valid record (zero type, impossible length, CRC
 * mismatch, seq not above the last good one), look ahead for the next valid record:
 * - found: the bytes in between are a corrupt region (counted, skipped, never returned);
 * - not found: everything from there is a torn or zero-filled tail (the caller may truncate it).
 * The first candidate tried is the end of the bad record as its length field says (a bit flip in
 * a payload leaves the length intact), then every byte offset (a damaged length).
 */
import type { FileHandle } from 'node:fs/promises';
import {
  MAX_RECORD_BYTES,
  READ_BLOCK_BYTES,
  READ_FIRST_BLOCK_BYTES,
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
} from './constants.js';
import { claimedLength, parseRecordHeader, type RecordHeader, recordCrcOk } from './format.js';

/**
 * A sliding read window over a file of known size. Its first read is `firstBlockBytes`; each
 * further read doubles it, up to `blockBytes` (a window also grows at once to fit one record).
 */
export class FileWindow {
  private buf: Buffer;
  private start = 0;
  private len = 0;
  private readonly maxBlock: number;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    blockBytes = READ_BLOCK_BYTES,
    firstBlockBytes = READ_FIRST_BLOCK_BYTES,
  ) {
    this.maxBlock = Math.max(blockBytes, RECORD_HEADER_BYTES);
    this.buf = Buffer.allocUnsafe(Math.max(Math.min(firstBlockBytes, this.maxBlock), RECORD_HEADER_BYTES));
  }

  /** Bytes [off, off+n) as a view valid until the next call; undefined past the end of the file. */
  async get(off: number, n: number): Promise<{ buf: Buffer; at: number } | undefined> {
    if (off + n > this.size) return undefined;
    if (off >= this.start && off + n <= this.start + this.len) return { buf: this.buf, at: off - this.start };
    if (this.len > 0 && this.buf.length < this.maxBlock) {
      this.buf = Buffer.allocUnsafe(Math.min(this.buf.length * 2, this.maxBlock));
    }
    if (this.buf.length < n) this.buf = Buffer.allocUnsafe(n);
    const want = Math.min(this.buf.length, this.size - off);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(this.buf, got, want - got, off + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.start = off;
    this.len = got;
    return got >= n ? { buf: this.buf, at: 0 } : undefined;
  }

  /** The window's bytes from `off` without reading, when `off` is inside it. */
  view(off: number): { buf: Buffer; at: number; avail: number } | undefined {
    if (off < this.start || off >= this.start + this.len) return undefined;
    return { buf: this.buf, at: off - this.start, avail: this.start + this.len - off };
  }

  /** What the window holds from `off`. */
  async from(off: number): Promise<{ buf: Buffer; at: number; avail: number } | undefined> {
    if (off >= this.size) return undefined;
    // At least a record header's worth when the file has it, so the caller's pass always advances.
    const w = await this.get(off, Math.min(RECORD_HEADER_BYTES, this.size - off));
    if (!w) return undefined;
    return { ...w, avail: this.start + this.len - off };
  }
}

export type ScanItem =
  /** `payload` is a view into the read window: valid until the next item is asked for. */
  | { kind: 'record'; offset: number; end: number; header: RecordHeader; payload: Buffer }
  | { kind: 'corrupt'; offset: number; bytes: number }
  | { kind: 'tail'; offset: number; bytes: number };

interface Rec {
  header: RecordHeader;
  payload: Buffer;
  end: number;
}

/** A whole, CRC-valid record at `at` within `avail` bytes; 'short' when more bytes are needed. */
function parseAt(buf: Buffer, at: number, avail: number, off: number, minSeq: number): Rec | 'short' | 'bad' {
  if (avail < RECORD_HEADER_BYTES) return 'short';
  const h = parseRecordHeader(buf, at, minSeq);
  if (!h) return 'bad';
  if (RECORD_HEADER_BYTES + h.length > avail) return 'short';
  if (!recordCrcOk(buf, at, h)) return 'bad';
  const p = at + RECORD_HEADER_BYTES;
  return { header: h, payload: buf.subarray(p, p + h.length), end: off + RECORD_HEADER_BYTES + h.length };
}

/**
 * The record at `off`, or undefined when there is none. Synchronous while the window holds it
 * (the common case: a scan costs no promise per record), else it reads first.
 */
function readRecordSync(w: FileWindow, off: number, minSeq: number): Rec | 'short' | 'bad' {
  const v = w.view(off);
  return v ? parseAt(v.buf, v.at, v.avail, off, minSeq) : 'short';
}

async function readRecord(w: FileWindow, off: number, minSeq: number): Promise<Rec | undefined> {
  let r = readRecordSync(w, off, minSeq);
  if (r === 'short') {
    const hw = await w.get(off, Math.min(RECORD_HEADER_BYTES, w.size - off));
    if (!hw) return undefined;
    const h = parseRecordHeader(hw.buf, hw.at, minSeq);
    if (!h) return undefined;
    const rw = await w.get(off, RECORD_HEADER_BYTES + h.length);
    if (!rw) return undefined;
    r = parseAt(rw.buf, rw.at, RECORD_HEADER_BYTES + h.length, off, minSeq);
  }
  return typeof r === 'object' ? r : undefined;
}

/** The offset of the next valid record at or after `from` with seq >= minSeq, or undefined. */
async function resync(w: FileWindow, from: number, minSeq: number): Promise<number | undefined> {
  let pos = from;
  while (pos + RECORD_HEADER_BYTES <= w.size) {
    const win = await w.from(pos);
    if (!win) return undefined;
    const last = win.at + win.avail - RECORD_HEADER_BYTES;
    let i = win.at;
    // Synchronous pass over the window: cheap header checks first, the CRC only for candidates.
    for (; i <= last; i++) {
      const h = parseRecordHeader(win.buf, i, minSeq);
      if (!h) continue;
      const cand = pos + (i - win.at);
      if (i + RECORD_HEADER_BYTES + h.length <= win.at + win.avail) {
        if (recordCrcOk(win.buf, i, h)) return cand;
        continue;
      }
      if (await readRecord(w, cand, minSeq)) return cand;
      // readRecord moved the window; restart the pass just after the candidate.
      pos = cand + 1;
      break;
    }
    if (i > last) pos += Math.max(1, last - win.at + 1);
  }
  return undefined;
}

/**
 * Scan the records of a segment of `size` bytes whose header says it starts at `firstSeq`.
 * Seqs strictly increase within a segment; a record breaking that is treated as damage.
 */
export async function* scanSegment(fh: FileHandle, size: number, firstSeq: number): AsyncGenerator<ScanItem> {
  const w = new FileWindow(fh, size);
  let off = SEGMENT_HEADER_BYTES;
  let minSeq = firstSeq;
  while (off < size) {
    const fast = readRecordSync(w, off, minSeq);
    const rec = typeof fast === 'object' ? fast : fast === 'short' ? await readRecord(w, off, minSeq) : undefined;
    if (rec) {
      yield { kind: 'record', offset: off, end: rec.end, header: rec.header, payload: rec.payload };
      off = rec.end;
      minSeq = rec.header.seq + 1;
      continue;
    }
    // Damaged at `off`: first try where its own length says the next record starts.
    let next: number | undefined;
    const hw = await w.get(off, RECORD_HEADER_BYTES);
    const len = hw ? claimedLength(hw.buf, hw.at) : 0;
    if (len > 0 && len <= MAX_RECORD_BYTES) {
      const claimed = off + RECORD_HEADER_BYTES + len;
      if (claimed < size && (await readRecord(w, claimed, minSeq))) next = claimed;
    }
    next ??= await resync(w, off + 1, minSeq);
    if (next === undefined) {
      yield { kind: 'tail', offset: off, bytes: size - off };
      return;
    }
    yield { kind: 'corrupt', offset: off, bytes: next - off };
    off = next;
  }
}
