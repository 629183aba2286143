/**
 * Group commit: encoded records queue here and are written to the active segment in one `write`
 * (per segment touched) followed by one `fdatasync` per commit.
 *
 * - `batch`: leader/follower group commit (PostgreSQL / RocksDB WAL habit), paced per storage
 *   device (`pacer.ts`): a committer with records waiting asks the device's pacer for a turn, and
 *   turns start at least `windowMs` apart across every series on that device. The window bounds
 *   the flush rate of the device (flash wear on an SD card: at most 1000 / windowMs syncs per
 *   second) instead of adding latency to an idle disk: on an idle device the turn comes at once
 *   (in a microtask: the appends of the current turn share it). A lone series (one node per
 *   board) therefore commits at most once per window, as before; S series sharing a device each
 *   commit within S windows. Appends that arrive while a commit is in flight form the next batch.
 *   A commit also starts early, without a turn, once `batchMaxBytes` wait (Kafka's batch.size: a
 *   batch that big is a write the disk absorbs in one go; waiting saves no fsync), and at once on
 *   `flush()`; both still count as starts for the pacer. Opening the series counts as a start (it
 *   fsynced the segment). Under a steady closed loop of W writers each awaiting its append,
 *   throughput is therefore about W / max(windowMs, commit time): the window trades throughput
 *   of such a loop for fewer fsyncs, by design.
 *   Durability is unchanged: an append resolves only after the fdatasync of the commit holding it.
 * - `always`: a commit starts as soon as possible; records queued while a commit's fdatasync is in
 *   flight are coalesced into the next one (each append still waits for an fdatasync covering it);
 * - `none`: same as `always` without the fdatasync.
 * One commit runs at a time, so records reach the file in seq order.
 *
 * Durable writes: under `always` and `batch` the active segment is open with O_DSYNC where the
 * platform has it (PostgreSQL's `wal_sync_method = open_datasync`): a write returns once its bytes
 * are as durable as after write + fdatasync, so a commit is one trip to the thread pool instead of
 * two. Each trip's completion waits for the event loop, which a busy node fills with appends; one
 * trip less per commit is a shorter commit cycle, hence fewer, larger commits for the same load.
 * An EIO from an O_DSYNC write is reported as a failed fsync: it may be exactly that.
 *
 * An error from write or fdatasync is fatal (PostgreSQL's fsyncgate lesson: after a failed
 * fsync the kernel may have dropped the dirty pages, so a retry that "succeeds" proves nothing).
 * The committer fails every pending and future append with the typed error; the owner reopens.
 */
import { constants as fsc, write as fsWrite } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES } from './constants.js';
import { ioError } from './errors.js';
import { encodeSegmentHeader, recordBytes, sealRecord, segmentName, writeRecord } from './format.js';
import type { PacedMember, SyncPacer } from './pacer.js';
import { type SegmentInfo, syncDir } from './segments.js';
import type { Durability } from './types.js';

/** O_DSYNC when durable and the platform has it (Linux, macOS); 0 otherwise. */
export function syncWriteFlag(durability: Durability): number {
  return durability === 'none' ? 0 : (fsc.O_DSYNC ?? 0);
}

/** Flags to open the active (appended) segment with. */
export function activeSegmentFlags(durability: Durability): number {
  return fsc.O_RDWR | syncWriteFlag(durability);
}

export interface ActiveSegment {
  fh: FileHandle;
  info: SegmentInfo;
}

/** A segment boundary inside the pending buffer: bytes before `at` go to the old segment. */
interface Rotation {
  at: number;
  firstSeq: number;
}

/** The appends of one commit share one promise (one allocation per commit, not per append). */
interface Batch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** What a commit took from the pending state. */
interface Taken {
  buf: Buffer;
  len: number;
  rotations: Rotation[];
  maxSeq: number;
  records: number;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // each waiter gets the rejection through its own `then`
  return { promise, resolve, reject };
}

/** Initial size of a pending buffer; it doubles as needed (bounded by MAX_QUEUED_BYTES). */
const PENDING_INITIAL_BYTES = 256 * 1024;
/** A spare pending buffer larger than this is dropped after its commit instead of kept. */
const PENDING_KEEP_BYTES = 4 * 1024 * 1024;

export interface CommitterDeps {
  dir: string;
  durability: Durability;
  /** `batch`: the device's turns (pacer.ts); unused by the other modes. */
  pacer: SyncPacer;
  /** `batch`: a commit starts without waiting for its turn once this many bytes wait. */
  batchMaxBytes: number;
  active: ActiveSegment;
  /** Called after each commit with the highest seq it made durable. */
  onDurable: (seq: number) => void;
  /** Called once, when a write or fsync fails (the committer is failed from then on). */
  onFailure: (err: Error) => void;
  /** Called once a new segment file exists (it becomes readable). */
  onRotated: (seg: SegmentInfo) => void;
  /**
   * Awaited after a commit that started segments is durable, before its appends resolve: ring
   * eviction happens here, so an evicted segment is never needed to rebuild the views (the new
   * segment's snapshot is on disk first). Must not throw.
   */
  afterRotations: () => Promise<void>;
}

export class Committer {
  /**
   * Records are framed straight into this buffer as they are appended (no per-record buffer, no
   * concat at commit); a commit takes it whole and appends go on into the spare.
   */
  private pend: Buffer = Buffer.allocUnsafe(PENDING_INITIAL_BYTES);
  private spare: Buffer | undefined;
  private pendLen = 0;
  private pendRecords = 0;
  private pendMaxSeq = 0;
  private rotations: Rotation[] = [];
  /** Waiters for the pending records, and for the records of the commit in flight. */
  private pendBatch: Batch | undefined;
  private runBatch: Batch | undefined;
  private runMaxSeq = 0;
  private kicked = false;
  /** `batch`: this committer as the pacer's member (one object, reused for every turn). */
  private readonly member: PacedMember = { grant: () => this.commit() };
  /** A flush is waiting: commit without waiting for the window. */
  private urgent = false;
  private running = false;
  private failure: Error | undefined;
  private lastQueuedSeq = 0;
  durableSeq: number;
  /** The active segment is open with O_DSYNC: a returned write is durable. */
  private readonly syncWrites: boolean;
  /** Commits done, and records in them: entries per commit for the benchmark. */
  commits = 0;
  committedRecords = 0;
  /** Bytes written to segment files and syncs asked of the device (O_DSYNC writes, fdatasyncs, folder syncs): wear. */
  writtenBytes = 0;
  syncs = 0;

  constructor(
    private readonly d: CommitterDeps,
    durableSeq: number,
  ) {
    this.durableSeq = durableSeq;
    this.syncWrites = syncWriteFlag(d.durability) !== 0;
    if (d.durability === 'batch') d.pacer.started(); // the open fsynced the segment
  }

  get active(): ActiveSegment {
    return this.d.active;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  get queuedBytes(): number {
    return this.pendLen;
  }

  private get idle(): boolean {
    return this.pendLen === 0 && this.rotations.length === 0;
  }

  /** Frame a record into the pending buffer (copying `payload`). */
  enqueueRecord(type: number, seq: number, payload: Uint8Array): void {
    const need = this.pendLen + recordBytes(payload.length);
    if (need > this.pend.length) this.growPending(need);
    this.recorded(writeRecord(this.pend, this.pendLen, type, seq, payload), seq);
  }

  /**
   * In-place framing, the append path: the caller encodes the payload into `tail` from
   * `tailPayloadAt` (growing it with `growTail` when it runs out), then `sealTail` writes the
   * header and queues the record. Bytes past the queued ones are scratch until sealed.
   */
  get tail(): Buffer {
    return this.pend;
  }

  get tailPayloadAt(): number {
    return this.pendLen + RECORD_HEADER_BYTES;
  }

  /** Double the pending buffer (the queued records move along). */
  growTail(): void {
    this.growPending(this.pend.length * 2);
  }

  sealTail(type: number, seq: number, payloadBytes: number): void {
    this.recorded(sealRecord(this.pend, this.pendLen, type, seq, payloadBytes), seq);
  }

  private growPending(atLeast: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(atLeast, this.pend.length * 2));
    this.pend.copy(bigger, 0, 0, this.pendLen);
    this.pend = bigger;
  }

  private recorded(end: number, seq: number): void {
    this.pendLen = end;
    this.pendRecords++;
    this.pendMaxSeq = seq;
    this.lastQueuedSeq = seq;
    this.schedule(this.pendLen >= this.d.batchMaxBytes);
  }

  enqueueRotate(firstSeq: number): void {
    this.rotations.push({ at: this.pendLen, firstSeq });
  }

  /**
   * Resolves with `value` once `seq` is durable under the mode (one promise per append); rejects
   * with the failure if the series fails.
   */
  wait<T>(seq: number, value: T): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (seq <= this.durableSeq) return Promise.resolve(value);
    if (seq <= this.runMaxSeq && this.running) {
      // In the commit in flight; its records may all have been `record`ed, with no promise yet.
      this.runBatch ??= newBatch();
      return this.runBatch.promise.then(() => value);
    }
    if (this.pendBatch === undefined) {
      this.pendBatch = newBatch();
      // Someone awaits these records now: a queued series moves to the pacer's awaited turns.
      if (this.d.durability === 'batch' && !this.running && !this.kicked) this.d.pacer.request(this.member, true);
    }
    return this.pendBatch.promise.then(() => value);
  }

  /** Commit now whatever is queued; resolves once all of it is durable. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.lastQueuedSeq <= this.durableSeq) return Promise.resolve();
    this.urgent = true;
    this.schedule(true);
    return this.wait(this.lastQueuedSeq, undefined);
  }

  /** Leave the pacer's queue (the owner flushed first). */
  stop(): void {
    this.d.pacer.cancel(this.member);
  }

  private schedule(now: boolean): void {
    // Cheap checks first: this runs on every append. A kicked commit takes everything queued.
    if (this.kicked || this.failure || this.running || this.idle) return;
    if (!now && !this.urgent && this.d.durability === 'batch') {
      this.d.pacer.request(this.member, this.pendBatch !== undefined); // no-op while queued
      return;
    }
    this.kicked = true;
    queueMicrotask(() => {
      this.kicked = false;
      this.commit();
    });
  }

  private commit(): void {
    if (this.running || this.failure || this.idle) return;
    this.running = true;
    this.urgent = false;
    if (this.d.durability === 'batch') {
      // Granted (the pacer dequeued us) or early (full batch, flush): either way a start to pace.
      this.d.pacer.cancel(this.member);
      this.d.pacer.started();
    }
    const taken: Taken = {
      buf: this.pend,
      len: this.pendLen,
      rotations: this.rotations,
      maxSeq: this.pendMaxSeq,
      records: this.pendRecords,
    };
    this.runBatch = this.pendBatch;
    this.pendBatch = undefined;
    this.runMaxSeq = taken.maxSeq;
    this.pend = this.spare ?? Buffer.allocUnsafe(PENDING_INITIAL_BYTES);
    this.spare = undefined;
    this.pendLen = 0;
    this.pendRecords = 0;
    this.rotations = [];
    if (taken.rotations.length === 0 && (this.syncWrites || this.d.durability === 'none')) {
      // The common commit, one write (durable through O_DSYNC, or `none`), through the callback API:
      // no async frames and no promises per commit. Each commit of each series pays this on the
      // main thread; with many nodes in one process (the field, the benchmarks) it added up.
      this.writeDirect(taken.buf, 0, taken.len, (err) => {
        if (err) this.failCommit(err);
        else this.committed(taken);
      });
      return;
    }
    void this.commitRotating(taken);
  }

  /** A commit that starts segments, or writes and then fdatasyncs (no O_DSYNC on this platform). */
  private async commitRotating(taken: Taken): Promise<void> {
    const { buf, len, rotations } = taken;
    try {
      let from = 0;
      for (const r of rotations) {
        await this.writeOut(buf.subarray(from, r.at));
        await this.writeOut(await this.rotate(r.firstSeq));
        from = r.at;
      }
      await this.writeOut(buf.subarray(from, len));
      if (this.d.durability !== 'none' && !this.syncWrites) {
        try {
          await this.d.active.fh.datasync();
        } catch (err) {
          throw ioError('fsync', this.d.active.info.path, err);
        }
      }
    } catch (err) {
      this.failCommit(err);
      return;
    }
    if (rotations.length > 0) await this.d.afterRotations();
    this.committed(taken);
  }

  private failCommit(err: unknown): void {
    this.running = false;
    this.fail(err instanceof Error ? err : new Error(String(err)));
  }

  /** The commit's records are durable: resolve their appends and go on with what queued meanwhile. */
  private committed(taken: Taken): void {
    this.running = false;
    if (taken.buf.length <= PENDING_KEEP_BYTES) this.spare = taken.buf;
    this.commits++;
    this.committedRecords += taken.records;
    this.writtenBytes += taken.len;
    if (this.d.durability !== 'none') this.syncs++; // the commit's one O_DSYNC write or fdatasync
    if (taken.maxSeq > this.durableSeq) this.durableSeq = taken.maxSeq;
    const batch = this.runBatch; // the commit's own, or one a flush made while it ran
    this.runBatch = undefined;
    batch?.resolve();
    this.d.onDurable(this.durableSeq);
    if (!this.idle) this.schedule(this.pendLen >= this.d.batchMaxBytes);
  }

  /** Writes `b[off..end)` at the end of the active segment (a short write is continued), then `done`. */
  private writeDirect(b: Buffer, off: number, end: number, done: (err?: Error) => void): void {
    const { fh, info } = this.d.active;
    try {
      fsWrite(fh.fd, b, off, end - off, info.size, (err, written) => {
        if (err) {
          done(this.writeError(err, info.path));
          return;
        }
        info.size += written;
        if (off + written < end) this.writeDirect(b, off + written, end, done);
        else done();
      });
    } catch (err) {
      // A descriptor that is no longer open (-1) is refused before any I/O: a write error all the same.
      done(this.writeError(err, info.path));
    }
  }

  /** Under O_DSYNC an EIO may be the flush failing: typed as the fsync failure it may be. */
  private writeError(err: unknown, path: string): Error {
    const flush = this.syncWrites && (err as NodeJS.ErrnoException).code === 'EIO';
    return ioError(flush ? 'fsync' : 'write', path, err);
  }

  /** One write of `b` at the end of the active segment. */
  private async writeOut(b: Buffer): Promise<void> {
    if (b.length === 0) return;
    const { fh, info } = this.d.active;
    let off = 0;
    try {
      while (off < b.length) {
        const { bytesWritten } = await fh.write(b, off, b.length - off, info.size + off);
        off += bytesWritten;
      }
    } catch (err) {
      throw this.writeError(err, info.path);
    }
    info.size += b.length;
  }

  /**
   * Seal the active segment (fdatasync unless `none`), create the next one and fsync the folder
   * so its name survives a power cut. Returns the new segment's header, to be written first.
   */
  private async rotate(firstSeq: number): Promise<Buffer> {
    const old = this.d.active;
    if (this.d.durability !== 'none') {
      try {
        await old.fh.datasync();
      } catch (err) {
        throw ioError('fsync', old.info.path, err);
      }
    }
    await old.fh.close().catch(() => undefined);
    const path = join(this.d.dir, segmentName(firstSeq));
    let fh: FileHandle;
    try {
      fh = await open(path, activeSegmentFlags(this.d.durability) | fsc.O_CREAT | fsc.O_EXCL, 0o644);
    } catch (err) {
      throw ioError('open', path, err);
    }
    const info: SegmentInfo = { firstSeq, path, size: 0 };
    this.d.active = { fh, info };
    await syncDir(this.d.dir);
    // The old segment's fdatasync and the folder's fsync; the new header goes out with the commit.
    this.syncs += this.d.durability !== 'none' ? 2 : 1;
    this.writtenBytes += SEGMENT_HEADER_BYTES;
    this.d.onRotated(info);
    return encodeSegmentHeader(firstSeq);
  }

  private fail(err: Error): void {
    this.failure = err;
    this.stop();
    const batches = [this.runBatch, this.pendBatch];
    this.runBatch = undefined;
    this.pendBatch = undefined;
    this.pendLen = 0;
    this.rotations = [];
    for (const b of batches) b?.reject(err);
    this.d.onFailure(err);
  }
}
