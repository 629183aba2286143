/**
 * Group commit: encoded records queue here and are written to the active segment in one `write`
 * (per segment touched) followed by one `fdatasync` per commit.
 *
 * - `batch`: a commit starts `windowMs` after the first record of the batch was queued (the
 *   window), or at once on `flush()`;
 * - `always`: a commit starts as soon as possible; records queued while a commit's fdatasync is in
 *   flight are coalesced into the next one (each append still waits for an fdatasync covering it);
 * - `none`: same as `always` without the fdatasync.
 * One commit runs at a time, so records reach the file in seq order.
 *
 * An error from write or fdatasync is fatal (PostgreSQL's fsyncgate lesson: after a failed
 * fsync the kernel may have dropped the dirty pages, so a retry that "succeeds" proves nothing).
 * The committer fails every pending and future append with the typed error; the owner reopens.
 */
import { constants as fsc } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../clock.js';
import { ioError } from './errors.js';
import { encodeSegmentHeader, segmentName } from './format.js';
import { type SegmentInfo, syncDir } from './segments.js';
import type { Durability } from './types.js';

export interface ActiveSegment {
  fh: FileHandle;
  info: SegmentInfo;
}

type Op = { kind: 'rec'; seq: number; buf: Buffer } | { kind: 'rotate'; firstSeq: number };

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface CommitterDeps {
  dir: string;
  durability: Durability;
  windowMs: number;
  clock: Clock;
  active: ActiveSegment;
  /** Called after each commit with the highest seq it made durable. */
  onDurable: (seq: number) => void;
  /** Called (and awaited) once a new segment exists on disk; eviction happens here. */
  onRotated: (seg: SegmentInfo) => Promise<void>;
}

export class Committer {
  private ops: Op[] = [];
  private waiters: Waiter[] = [];
  private queued = 0;
  private firstQueuedAt = 0;
  private timer: TimerHandle | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private kicked = false;
  /** A flush is waiting: commit without waiting for the window. */
  private urgent = false;
  private running = false;
  private failure: Error | undefined;
  private lastQueuedSeq = 0;
  durableSeq: number;
  /** Commits done, and records in them: entries per commit for the benchmark. */
  commits = 0;
  committedRecords = 0;

  constructor(
    private readonly d: CommitterDeps,
    durableSeq: number,
  ) {
    this.durableSeq = durableSeq;
  }

  get active(): ActiveSegment {
    return this.d.active;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  get queuedBytes(): number {
    return this.queued;
  }

  enqueueRecord(seq: number, buf: Buffer): void {
    if (this.ops.length === 0) this.firstQueuedAt = this.d.clock.monotonic();
    this.ops.push({ kind: 'rec', seq, buf });
    this.queued += buf.length;
    this.lastQueuedSeq = seq;
    this.schedule(false);
  }

  enqueueRotate(firstSeq: number): void {
    if (this.ops.length === 0) this.firstQueuedAt = this.d.clock.monotonic();
    this.ops.push({ kind: 'rotate', firstSeq });
  }

  /** Resolves once `seq` is durable under the mode; rejects with the failure if the series fails. */
  wait(seq: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (seq <= this.durableSeq) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Commit now whatever is queued; resolves once all of it is durable. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.lastQueuedSeq <= this.durableSeq) return Promise.resolve();
    this.urgent = true;
    this.schedule(true);
    return this.wait(this.lastQueuedSeq);
  }

  /** Stop timers (the owner flushed first). */
  stop(): void {
    this.d.clock.clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.keepAlive);
    this.keepAlive = undefined;
  }

  private schedule(now: boolean): void {
    if (this.failure || this.running || this.ops.length === 0) return;
    if (now || this.urgent || this.d.durability !== 'batch') {
      if (this.kicked) return;
      this.d.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.kicked = true;
      queueMicrotask(() => {
        this.kicked = false;
        void this.commit();
      });
      return;
    }
    if (this.timer !== undefined || this.kicked) return;
    const delay = Math.max(0, this.d.windowMs - (this.d.clock.monotonic() - this.firstQueuedAt));
    this.timer = this.d.clock.setTimeout(() => {
      this.timer = undefined;
      void this.commit();
    }, delay);
    // The injected clock's timers are unref'd (a stopping process must not wait for them), but
    // appends waiting for this window must not vanish because nothing else keeps Node alive (a
    // CLI run). So a ref'd no-op timer outlives the window; it is shell plumbing, not timing
    // logic: the commit itself runs on the injected clock.
    clearTimeout(this.keepAlive);
    this.keepAlive = setTimeout(() => undefined, delay + 1000);
  }

  private async commit(): Promise<void> {
    if (this.running || this.failure || this.ops.length === 0) return;
    this.running = true;
    this.urgent = false;
    this.stop();
    const ops = this.ops;
    this.ops = [];
    this.queued = 0;
    let maxSeq = this.durableSeq;
    let records = 0;
    try {
      let pending: Buffer[] = [];
      for (const op of ops) {
        if (op.kind === 'rec') {
          pending.push(op.buf);
          maxSeq = op.seq;
          records++;
          continue;
        }
        await this.writeOut(pending);
        pending = [await this.rotate(op.firstSeq)];
      }
      await this.writeOut(pending);
      if (this.d.durability !== 'none') {
        try {
          await this.d.active.fh.datasync();
        } catch (err) {
          throw ioError('fsync', this.d.active.info.path, err);
        }
      }
    } catch (err) {
      this.running = false;
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.running = false;
    this.commits++;
    this.committedRecords += records;
    this.durableSeq = maxSeq;
    let i = 0;
    while (i < this.waiters.length && this.waiters[i]!.seq <= maxSeq) this.waiters[i++]!.resolve();
    if (i > 0) this.waiters.splice(0, i);
    this.d.onDurable(maxSeq);
    if (this.ops.length > 0) this.schedule(false);
  }

  /** One write of everything pending into the active segment, at its end. */
  private async writeOut(bufs: Buffer[]): Promise<void> {
    if (bufs.length === 0) return;
    const b = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
    const { fh, info } = this.d.active;
    let off = 0;
    try {
      while (off < b.length) {
        const { bytesWritten } = await fh.write(b, off, b.length - off, info.size + off);
        off += bytesWritten;
      }
    } catch (err) {
      throw ioError('write', info.path, err);
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
      fh = await open(path, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL, 0o644);
    } catch (err) {
      throw ioError('open', path, err);
    }
    const info: SegmentInfo = { firstSeq, path, size: 0 };
    this.d.active = { fh, info };
    await syncDir(this.d.dir);
    await this.d.onRotated(info);
    return encodeSegmentHeader(firstSeq);
  }

  private fail(err: Error): void {
    this.failure = err;
    this.stop();
    const waiters = this.waiters;
    this.waiters = [];
    this.ops = [];
    this.queued = 0;
    for (const w of waiters) w.reject(err);
  }
}
