/**
 * The series implementation behind `createSeries` (private: use `index.ts`).
 */
import { constants as fsc } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeEntry, encodeEntryInto } from '../cbor/index.js';
import { systemClock } from '../clock.js';
import { buildChunk } from './chunk.js';
import { activeSegmentFlags, Committer } from './commit.js';
import {
  MAX_QUEUED_BYTES,
  MAX_RECORD_BYTES,
  RECORD_ENTRY,
  RECORD_HEADER_BYTES,
  RECORD_SNAPSHOT,
  SEGMENT_HEADER_BYTES,
  SNAPSHOT_EVENT,
} from './constants.js';
import {
  BadEntryError,
  ChunkEmptyError,
  EntryTooLargeError,
  ioError,
  ReadOnlyError,
  SeriesBusyError,
  SeriesClosedError,
} from './errors.js';
import { encodeRecord, encodeSegmentHeader, recordBytes, segmentName } from './format.js';
import { acquireLock } from './lock.js';
import { type ResolvedOptions, resolveOptions } from './options.js';
import { acquireDevicePacer, createSyncPacer, type SyncPacer } from './pacer.js';
import { readEntries, tailEntries } from './read.js';
import { recover } from './recover.js';
import { evictToBudget } from './ring.js';
import { listSegments, type SegmentInfo, syncDir } from './segments.js';
import type {
  Chunk,
  CommitStats,
  Entry,
  EntryInput,
  OpenReport,
  ReadQuery,
  Series,
  SeriesOptions,
  SeriesStats,
} from './types.js';
import { ViewSet } from './views.js';

/** The pacer of series that never ask for turns (`always`, `none`): nothing is ever queued in it. */
const UNPACED: SyncPacer = createSyncPacer({ intervalMs: 0 });

type State = 'new' | 'opening' | 'open' | 'closed';

/** Entries are CBOR as src/cbor writes them (one configuration for entries and chunk bodies). */
const encode = encodeEntry;

export class DurableSeries implements Series {
  private readonly o: ResolvedOptions;
  private readonly views: ViewSet;
  private state: State = 'new';
  private segments: SegmentInfo[] = [];
  private committer: Committer | undefined;
  private nextSeq = 1;
  /** Bytes the active segment will hold once everything queued is written, and its record count. */
  private plannedBytes = 0;
  private plannedRecords = 0;
  private evicted = 0;
  /** Damaged records the open skipped. */
  private damagedAtOpen = 0;
  /** Monotonic ms of the open (the wear counters' start). */
  private openedAtMs = 0;
  private unlock: (() => Promise<void>) | undefined;
  /** Gives the device's pacer back at close (shared pacers are reference-counted). */
  private releasePacer: (() => void) | undefined;

  constructor(private readonly opts: SeriesOptions) {
    this.o = resolveOptions(opts);
    this.views = new ViewSet(opts.views ?? [], this.o.log);
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get durableSeq(): number {
    return this.committer?.durableSeq ?? this.lastSeq;
  }

  async open(): Promise<OpenReport> {
    if (this.state !== 'new') throw new SeriesClosedError(`already ${this.state}`);
    this.state = 'opening';
    try {
      return await this.openNow();
    } catch (err) {
      this.committer?.stop();
      this.releasePacer?.();
      this.releasePacer = undefined;
      await this.unlock?.();
      this.unlock = undefined;
      this.state = 'closed';
      throw err;
    }
  }

  private async openNow(): Promise<OpenReport> {
    if (!this.o.readOnly) {
      await listSegments(this.o.dir, false); // refuses foreign folders before a lock file lands there
      this.unlock = await acquireLock(this.o.dir);
    }
    const r = await recover(this.o.dir, this.o.readOnly, this.views, this.o.log);
    this.segments = r.segments;
    this.nextSeq = r.lastSeq + 1;
    if (!this.o.readOnly) {
      let last = this.segments[this.segments.length - 1];
      if (!last) last = await this.createFirstSegment();
      let fh: Awaited<ReturnType<typeof open>>;
      try {
        fh = await open(last.path, activeSegmentFlags(this.o.durability));
      } catch (err) {
        throw ioError('open', last.path, err);
      }
      this.plannedBytes = last.size;
      this.plannedRecords = Math.max(1, r.lastSegmentRecords);
      const pacer = await this.pacer();
      this.committer = new Committer(
        {
          dir: this.o.dir,
          durability: this.o.durability,
          pacer,
          batchMaxBytes: this.o.batchMaxBytes,
          active: { fh, info: last },
          onDurable: (seq) => this.opts.onDurable?.(seq),
          onFailure: (err) => this.opts.onFailure?.(err),
          onRotated: (seg) => this.segments.push(seg),
          afterRotations: () => this.evict(),
        },
        this.lastSeq,
      );
      await this.evict();
      this.openedAtMs = this.o.clock.monotonic();
    }
    this.state = 'open';
    this.damagedAtOpen = r.report.corruptRecords;
    this.o.log.debug({ dir: this.o.dir, ...r.report }, 'series open');
    const firstSeq = this.segments[0]?.firstSeq ?? 0;
    return {
      ...r.report,
      segments: this.segments.length,
      bytes: this.bytes(),
      firstSeq,
      lastSeq: this.lastSeq,
      entries: firstSeq > 0 ? this.lastSeq - firstSeq + 1 : 0,
    };
  }

  /**
   * The pacer of `batch` commits (pacer.ts): the one given, else the process's pacer for this
   * folder's device and window when the series runs on the real clock, else (an injected clock,
   * whose time other series do not share) one of its own.
   */
  private async pacer(): Promise<SyncPacer> {
    if (this.o.durability !== 'batch') return UNPACED; // `always` and `none` never take turns
    if (this.opts.syncPacer !== undefined) return this.opts.syncPacer;
    if (this.o.clock !== systemClock) return createSyncPacer({ intervalMs: this.o.windowMs, clock: this.o.clock });
    const { dev } = await stat(this.o.dir);
    const held = acquireDevicePacer(dev, this.o.windowMs);
    this.releasePacer = held.release;
    return held.pacer;
  }

  /** A fresh series: the first segment, starting with the snapshot of the initial views. */
  private async createFirstSegment(): Promise<SegmentInfo> {
    const seq = this.nextSeq;
    const path = join(this.o.dir, segmentName(seq));
    const snap = encodeRecord(RECORD_SNAPSHOT, seq, encode(this.snapshotEntry(seq)));
    const buf = Buffer.concat([encodeSegmentHeader(seq), snap]);
    try {
      const fh = await open(path, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL, 0o644);
      try {
        await fh.write(buf, 0, buf.length, 0);
        if (this.o.durability !== 'none') await fh.datasync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      await unlink(path).catch(() => undefined);
      throw ioError('write', path, err);
    }
    await syncDir(this.o.dir);
    this.nextSeq = seq + 1;
    const seg = { firstSeq: seq, path, size: buf.length };
    this.segments.push(seg);
    return seg;
  }

  private snapshotEntry(seq: number): Entry {
    return { seq, t: this.o.clock.now(), event: SNAPSHOT_EVENT, views: this.views.snapshot() };
  }

  private writable(): Committer {
    if (this.o.readOnly) throw new ReadOnlyError(this.o.dir, 'opened with readOnly');
    if (this.state !== 'open' || !this.committer)
      throw new SeriesClosedError(this.state === 'closed' ? 'closed' : 'not open');
    if (this.committer.failed) throw this.committer.failed;
    return this.committer;
  }

  append(input: EntryInput): Promise<Entry> {
    try {
      const c = this.writable();
      const entry = this.queueEntry(c, input);
      return c.wait(entry.seq, entry);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  record(input: EntryInput): Entry {
    return this.queueEntry(this.writable(), input);
  }

  /**
   * Stamp, encode, frame into the commit queue and fold into the views, all synchronously (so seq
   * order = call order). `append` then waits for the commit; `record` does not.
   */
  private queueEntry(c: Committer, input: EntryInput): Entry {
    if (typeof input !== 'object' || input === null) throw new BadEntryError('not an object');
    const { event, t } = input;
    if (typeof event !== 'string' || event.length === 0) throw new BadEntryError('event must be non-empty text');
    if (event === SNAPSHOT_EVENT) throw new BadEntryError('"snapshot" is reserved for the series');
    if (t !== undefined && !(typeof t === 'number' && Number.isFinite(t))) {
      throw new BadEntryError('t must be a number');
    }
    // Key order seq, t, event, then the caller's fields (one object, built once: hot path).
    // The spread copies the own enumerable fields in one go; keys already present keep their place,
    // so seq/t/event are reassigned (a caller's `seq` never wins).
    const entry: Entry = { seq: 0, t: 0, event, ...(input as Record<string, unknown>) };
    entry.seq = this.nextSeq;
    entry.t = t ?? this.o.clock.now();
    entry.event = event;
    let payloadBytes = this.encodeInPlace(c, entry);
    const len = recordBytes(payloadBytes);
    if (c.queuedBytes + len > MAX_QUEUED_BYTES) throw new SeriesBusyError(c.queuedBytes);
    if (this.rotateBefore(len)) {
      this.rotate(c);
      entry.seq = this.nextSeq;
      payloadBytes = this.encodeInPlace(c, entry);
    }
    // After a rotation the entry was encoded again with its new seq: count what is sealed.
    this.planned(entry.seq, recordBytes(payloadBytes));
    c.sealTail(RECORD_ENTRY, entry.seq, payloadBytes);
    this.views.apply(entry);
    return entry;
  }

  /**
   * Encode the entry straight into the committer's pending buffer, after the room for its record
   * header; returns the payload's length. Not queued until `sealTail`.
   */
  private encodeInPlace(c: Committer, entry: Entry): number {
    const at = c.tailPayloadAt;
    for (;;) {
      let end: number;
      try {
        end = encodeEntryInto(c.tail, at, entry);
      } catch (err) {
        throw new BadEntryError('not CBOR-encodable plain data', err);
      }
      if (end >= 0) {
        const n = end - at;
        if (n > this.o.maxEntryBytes) throw new EntryTooLargeError(n, this.o.maxEntryBytes);
        return n;
      }
      // Out of room: grow, unless the room already exceeds what any entry may take (then size
      // it in the scratch encoder for the error, instead of growing the queue for nothing).
      if (c.tail.length - at > this.o.maxEntryBytes) {
        throw new EntryTooLargeError(this.encodeEntry(entry).length, this.o.maxEntryBytes);
      }
      c.growTail();
    }
  }

  /** Encode in the scratch encoder (sizing an oversize entry for its error). */
  private encodeEntry(entry: Entry): Uint8Array {
    let payload: Uint8Array;
    try {
      payload = encode(entry);
    } catch (err) {
      throw new BadEntryError('not CBOR-encodable plain data', err);
    }
    if (payload.length > this.o.maxEntryBytes) throw new EntryTooLargeError(payload.length, this.o.maxEntryBytes);
    return payload;
  }

  /** Start a new segment before a record of `len` bytes? Never for a segment holding only its snapshot. */
  private rotateBefore(len: number): boolean {
    return this.plannedRecords >= 2 && this.plannedBytes + len > this.o.segmentBytes;
  }

  /** Queue a rotation and the new segment's opening snapshot (views as of now). */
  private rotate(c: Committer): Entry {
    const seq = this.nextSeq;
    const snap = this.snapshotPayload(seq);
    c.enqueueRotate(seq);
    this.plannedBytes = SEGMENT_HEADER_BYTES;
    this.plannedRecords = 0;
    this.queue(c, RECORD_SNAPSHOT, seq, snap.payload);
    return snap.entry;
  }

  private snapshotPayload(seq: number): { entry: Entry; payload: Uint8Array } {
    const entry = this.snapshotEntry(seq);
    const payload = encode(entry);
    if (recordBytes(payload.length) > MAX_RECORD_BYTES) {
      throw new EntryTooLargeError(payload.length, MAX_RECORD_BYTES - RECORD_HEADER_BYTES);
    }
    return { entry, payload };
  }

  /** Hand a record to the committer (which copies the payload at once). */
  private queue(c: Committer, type: number, seq: number, payload: Uint8Array): void {
    this.planned(seq, recordBytes(payload.length));
    c.enqueueRecord(type, seq, payload);
  }

  /** Account for a record queued in the active segment. */
  private planned(seq: number, recordLen: number): void {
    this.nextSeq = seq + 1;
    this.plannedBytes += recordLen;
    this.plannedRecords++;
  }

  async snapshot(): Promise<Entry> {
    const c = this.writable();
    let snap = this.snapshotPayload(this.nextSeq);
    // Starting a new segment writes exactly such a snapshot first.
    if (this.rotateBefore(recordBytes(snap.payload.length))) snap = { ...snap, entry: this.rotate(c) };
    else this.queue(c, RECORD_SNAPSHOT, snap.entry.seq, snap.payload);
    return c.wait(snap.entry.seq, snap.entry);
  }

  view<S>(name: string): S {
    return this.views.get<S>(name);
  }

  read(query: ReadQuery = {}): AsyncIterable<Entry> {
    return readEntries([...this.segments], query);
  }

  tail(n: number, query: Omit<ReadQuery, 'fromSeq' | 'toSeq'> = {}): Promise<Entry[]> {
    return tailEntries([...this.segments], n, query);
  }

  async chunk(fromSeq: number, toSeq: number, node: string): Promise<Chunk> {
    const events: Entry[] = [];
    for await (const e of this.read({ fromSeq, toSeq })) events.push(e);
    if (events.length === 0) throw new ChunkEmptyError(fromSeq, toSeq);
    return buildChunk(node, events);
  }

  async flush(): Promise<void> {
    if (this.committer && this.state === 'open') await this.committer.flush();
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const c = this.committer;
    this.state = 'closed';
    if (!c) return;
    try {
      if (!c.failed) await c.flush();
    } finally {
      c.stop();
      this.releasePacer?.();
      this.releasePacer = undefined;
      await c.active.fh.close().catch(() => undefined);
      await this.unlock?.();
      this.unlock = undefined;
    }
  }

  stats(): SeriesStats {
    return {
      segments: this.segments.length,
      bytes: this.bytes(),
      budgetBytes: this.o.budgetBytes,
      firstSeq: this.segments[0]?.firstSeq ?? 0,
      lastSeq: this.lastSeq,
      durableSeq: this.durableSeq,
      evictedSegments: this.evicted,
      damagedRecords: this.damagedAtOpen,
    };
  }

  /**
   * Commits done and records in them (for benchmarks: entries per commit), and the wear: bytes
   * written and syncs asked of the device since the open, `sinceMs` ago.
   */
  commitStats(): CommitStats {
    const c = this.committer;
    return {
      commits: c?.commits ?? 0,
      records: c?.committedRecords ?? 0,
      writtenBytes: c?.writtenBytes ?? 0,
      syncs: c?.syncs ?? 0,
      sinceMs: c === undefined ? 0 : this.o.clock.monotonic() - this.openedAtMs,
    };
  }

  bytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  private async evict(): Promise<void> {
    this.evicted += await evictToBudget(this.segments, this.o);
  }
}
