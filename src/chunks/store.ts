/**
 * The content-addressed chunk store: one file per chunk at `<dataDir>/chunks/<id>`, under a byte
 * budget. What it holds is the `chunks` view of the node's series; the files follow it.
 *
 * A write never leaves a partial chunk visible (`atomic.ts`), then `stored_chunk` goes into the
 * series. At open the folder and the series are reconciled (`reconcile.ts`). Over budget it refuses
 * (`StorageFullError`) or evicts the least recently wanted chunks (`evicted_chunk`), as configured.
 * Mutations are serialized; reads are not.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { type EntryInput, recorder, type Series } from '../series/index.js';
import { removeChunkFile, writeChunkFile } from './atomic.js';
import { ByteCache } from './cache.js';
import {
  CHUNKS_DIR_NAME,
  CHUNKS_VIEW,
  DEFAULT_CACHE_BYTES,
  DEFAULT_MAX_CHUNK_BYTES,
  DEFAULT_MAX_CHUNKS,
  DEFAULT_STORE_BUDGET_BYTES,
} from './constants.js';
import { decodeChunkMap } from './decode.js';
import { ChunkTooLargeError, StorageFullError, StoreNotOpenError } from './errors.js';
import { type ChunkFilter, type ChunkMeta, matchesFilter, metaOf } from './meta.js';
import { type ReconcileFindings, reconcileFiles } from './reconcile.js';
import { verifyChunk } from './verify.js';
import type { ChunksState, EvictReason, HeldChunk } from './view.js';

export type WhenFull = 'evict' | 'refuse';

export interface ChunkStoreOptions {
  /** The node's data dir; chunks live in `<dataDir>/chunks/`. */
  dataDir: string;
  /** The node's series, opened, with `chunksView` registered. */
  series: Series;
  clock: Clock;
  log: Logger;
  /** Byte budget of the chunk files. Default `DEFAULT_STORE_BUDGET_BYTES` (64 MiB). */
  budgetBytes?: number;
  /** Largest chunk accepted, bytes. Default `DEFAULT_MAX_CHUNK_BYTES` (768 KiB). */
  maxChunkBytes?: number;
  /** Memory cache of recently stored/served chunk bytes (LRU). Default `DEFAULT_CACHE_BYTES` (8 MiB); 0 turns it off. */
  cacheBytes?: number;
  /** Most chunks held (bounds the index and the view). Default `DEFAULT_MAX_CHUNKS` (65,536). */
  maxChunks?: number;
  /** Over budget: evict the least recently wanted chunks, or refuse the new one. Default `refuse`. */
  whenFull?: WhenFull;
  /** Called after a chunk left the store (the service withdraws its `have` record). */
  onEvicted?: (id: string, reason: EvictReason) => void;
  /** Test seam: runs after the temp file is written and fsynced, before the rename. */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

export interface PutResult {
  /** False when the chunk was already held (nothing written). */
  stored: boolean;
  /** Chunks evicted to make room, least recently wanted first. */
  evicted: string[];
}

export interface ReconcileReport extends ReconcileFindings {
  held: number;
  bytes: number;
  /** Chunks evicted at open because the budget shrank. */
  evicted: string[];
}

export interface ChunkStore {
  open(): Promise<ReconcileReport>;
  close(): Promise<void>;
  has(id: string): boolean;
  /** Verify and store; throws `ChunkHashMismatchError`, `MalformedChunkError`, `ChunkTooLargeError`, `StorageFullError`. */
  put(id: string, bytes: Uint8Array): Promise<PutResult>;
  /** The verified bytes, or `undefined` when not held (a file that fails verification is dropped). */
  get(id: string): Promise<Uint8Array | undefined>;
  /**
   * `get` for a reply encoded at once (the `want_chunk` handler): a cache hit is the cache's own
   * array, not a copy, so the caller must neither keep nor change it.
   */
  serve(id: string): Promise<Uint8Array | undefined>;
  /** `serve` when the bytes are in the memory cache (synchronous: no promise on the hot path); else undefined. */
  serveCached(id: string): Uint8Array | undefined;
  /** Metadata of a held chunk. */
  meta(id: string): HeldChunk | undefined;
  /** Ids of held chunks matching the filter, oldest stored first, at most `limit`. */
  find(filter: ChunkFilter, limit: number): string[];
  /** Every held chunk with its metadata. */
  list(): Array<{ id: string } & HeldChunk>;
  /** Drop a chunk (records `evicted_chunk` with reason `removed`). */
  remove(id: string): Promise<boolean>;
  /** Bytes of chunk files held: what the `economic` limiter counts. */
  usedBytes(): number;
  readonly budgetBytes: number;
  readonly maxChunkBytes: number;
  readonly dir: string;
}

export function createChunkStore(options: ChunkStoreOptions): ChunkStore {
  return new DiskChunkStore(options);
}

class DiskChunkStore implements ChunkStore {
  readonly budgetBytes: number;
  readonly maxChunkBytes: number;
  readonly dir: string;
  private readonly maxChunks: number;
  private readonly whenFull: WhenFull;
  private readonly options: ChunkStoreOptions;
  /** Least recently wanted first (Map keeps insertion order; a touch re-inserts). Bounded by `maxChunks`. */
  private readonly recency = new Map<string, true>();
  /**
   * Recently stored/served bytes, bounded by `cacheBytes`. Only verified bytes enter, as private
   * copies nobody else can change, so a hit is served without re-hashing; a file read always is.
   */
  private readonly cache: ByteCache;
  private readonly cacheLimitBytes: number;
  private lock: Promise<unknown> = Promise.resolve();
  private opened = false;
  /** `stored_chunk` / `evicted_chunk` are recorded, not awaited; each refusal is logged. */
  private readonly record: (entry: EntryInput) => void;

  constructor(options: ChunkStoreOptions) {
    this.options = options;
    this.record = recorder(options.series, (err, entry) =>
      options.log.error({ err: String(err), event: entry.event }, 'chunk store: could not record in the series'),
    );
    this.dir = join(options.dataDir, CHUNKS_DIR_NAME);
    this.budgetBytes = positive('chunks.budgetBytes', options.budgetBytes ?? DEFAULT_STORE_BUDGET_BYTES);
    this.maxChunkBytes = positive('chunks.maxChunkBytes', options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES);
    this.maxChunks = positive('chunks.maxChunks', options.maxChunks ?? DEFAULT_MAX_CHUNKS);
    this.cacheLimitBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.cache = new ByteCache(this.cacheLimitBytes);
    this.whenFull = options.whenFull ?? 'refuse';
    if (this.whenFull !== 'evict' && this.whenFull !== 'refuse') {
      throw new ConfigError('chunks.whenFull', `"${String(this.whenFull)}" is neither "evict" nor "refuse"`);
    }
  }

  private state(): ChunksState {
    try {
      return this.options.series.view<ChunksState>(CHUNKS_VIEW);
    } catch (err) {
      throw new ConfigError(
        'series.views',
        `the "${CHUNKS_VIEW}" view is not registered: pass chunksView in the series' views (${String(err)})`,
      );
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  async open(): Promise<ReconcileReport> {
    this.state();
    await mkdir(this.dir, { recursive: true });
    this.opened = true;
    return this.exclusive(() => this.reconcile());
  }

  private async reconcile(): Promise<ReconcileReport> {
    const found = await reconcileFiles({
      dir: this.dir,
      series: this.options.series,
      log: this.options.log,
      state: () => this.state(),
      maxChunks: this.maxChunks,
      budgetBytes: this.budgetBytes,
    });
    const report: ReconcileReport = { held: 0, bytes: 0, ...found, evicted: [] };
    const ordered = Object.entries(this.state().held).sort((a, b) => a[1].stored_seq - b[1].stored_seq);
    this.recency.clear();
    for (const [id] of ordered) this.recency.set(id, true);
    if (this.whenFull === 'evict' && this.state().bytes > this.budgetBytes) {
      report.evicted = await this.evictFor(0, undefined);
    }
    const after = this.state();
    report.held = after.count;
    report.bytes = after.bytes;
    if (report.adopted.length + report.missing.length + report.corrupt.length + report.tempRemoved > 0) {
      this.options.log.warn(
        {
          adopted: report.adopted.length,
          missing: report.missing.length,
          corrupt: report.corrupt.length,
          temp: report.tempRemoved,
        },
        'chunk store reconciled with the files on disk',
      );
    }
    return report;
  }

  async close(): Promise<void> {
    await this.exclusive(async () => undefined);
    this.opened = false;
  }

  has(id: string): boolean {
    return this.opened && this.state().held[id] !== undefined;
  }

  meta(id: string): HeldChunk | undefined {
    return this.state().held[id];
  }

  usedBytes(): number {
    return this.state().bytes;
  }

  list(): Array<{ id: string } & HeldChunk> {
    return Object.entries(this.state().held)
      .map(([id, m]) => ({ id, ...m }))
      .sort((a, b) => a.stored_seq - b.stored_seq);
  }

  find(filter: ChunkFilter, limit: number): string[] {
    const out: string[] = [];
    for (const c of this.list()) {
      if (out.length >= limit) break;
      if (matchesFilter(c, filter)) out.push(c.id);
    }
    return out;
  }

  put(id: string, bytes: Uint8Array): Promise<PutResult> {
    if (!this.opened) return Promise.reject(new StoreNotOpenError());
    // Checked before hashing: an oversized body costs no CPU.
    if (bytes.length > this.maxChunkBytes)
      return Promise.reject(new ChunkTooLargeError(bytes.length, this.maxChunkBytes));
    try {
      verifyChunk(id, bytes);
    } catch (err) {
      return Promise.reject(err);
    }
    let meta: ChunkMeta;
    try {
      meta = metaOf(decodeChunkMap(bytes), bytes.length);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.exclusive(async () => {
      if (this.has(id)) {
        this.touch(id);
        return { stored: false, evicted: [] };
      }
      const evicted = await this.makeRoom(bytes.length, id);
      await writeChunkFile(this.dir, id, bytes, this.options.beforeRename);
      // The view applies at the call; durability of the entry is not awaited (a crash before it
      // leaves a verified file without its entry, adopted at open).
      this.record({ event: 'stored_chunk', id, ...meta });
      this.touch(id);
      this.remember(id, bytes);
      return { stored: true, evicted };
    });
  }

  private async makeRoom(size: number, id: string): Promise<string[]> {
    const s = this.state();
    const fits = s.bytes + size <= this.budgetBytes && s.count < this.maxChunks;
    if (fits) return [];
    if (this.whenFull === 'refuse' || size > this.budgetBytes)
      throw new StorageFullError(size, s.bytes, this.budgetBytes);
    return this.evictFor(size, id);
  }

  /** Evict least recently wanted chunks until `size` more bytes (and one more chunk) fit. Under the lock. */
  private async evictFor(size: number, keep: string | undefined): Promise<string[]> {
    const evicted: string[] = [];
    for (const victim of [...this.recency.keys()]) {
      const s = this.state();
      if (s.bytes + size <= this.budgetBytes && s.count + (size > 0 ? 1 : 0) <= this.maxChunks) break;
      if (victim === keep) continue;
      await this.drop(victim, 'lru');
      evicted.push(victim);
    }
    const s = this.state();
    if (s.bytes + size > this.budgetBytes) throw new StorageFullError(size, s.bytes, this.budgetBytes);
    return evicted;
  }

  /** Unlink first, then record: a crash in between leaves an entry without a file, fixed at open. */
  private async drop(id: string, reason: EvictReason): Promise<void> {
    const held = this.state().held[id];
    if (!held) return;
    await removeChunkFile(this.dir, id);
    this.record({ event: 'evicted_chunk', id, size: held.size, reason });
    this.recency.delete(id);
    this.cache.delete(id);
    this.options.onEvicted?.(id, reason);
  }

  get(id: string): Promise<Uint8Array | undefined> {
    const cached = this.hit(id);
    // A copy goes out: no caller can change what the next one is served (a copy of 64 KiB costs
    // about a fifth of re-hashing it).
    return cached ? Promise.resolve(copyOf(cached)) : this.read(id);
  }

  serve(id: string): Promise<Uint8Array | undefined> {
    const cached = this.hit(id);
    return cached ? Promise.resolve(cached) : this.read(id);
  }

  serveCached(id: string): Uint8Array | undefined {
    return this.hit(id);
  }

  /**
   * Cached bytes were verified when they entered the cache, as a copy only the store changes (never:
   * `get` hands out copies, `serve` lends them to an encoder), so a hit is not re-hashed.
   */
  private hit(id: string): Uint8Array | undefined {
    if (!this.has(id)) return undefined;
    const cached = this.cache.get(id);
    if (cached) this.touch(id);
    return cached;
  }

  /** From the file, re-hashed on every read. */
  private async read(id: string): Promise<Uint8Array | undefined> {
    if (!this.has(id)) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(this.dir, id));
      verifyChunk(id, bytes);
    } catch (err) {
      // A missing or rotten file is never served; the store forgets it.
      this.options.log.warn({ id, err: String(err) }, 'held chunk failed verification on read: dropped');
      await this.exclusive(() => this.drop(id, 'corrupt')).catch(() => undefined);
      return undefined;
    }
    this.touch(id);
    this.remember(id, bytes);
    return bytes;
  }

  /**
   * Caches a private copy of verified bytes: the caller keeps (and may change) its own array, and
   * a view into a larger received packet does not pin that packet in memory.
   */
  private remember(id: string, verified: Uint8Array): void {
    if (verified.length <= this.cacheLimitBytes) this.cache.set(id, copyOf(verified));
  }

  remove(id: string): Promise<boolean> {
    return this.exclusive(async () => {
      if (!this.has(id)) return false;
      await this.drop(id, 'removed');
      return true;
    });
  }

  private touch(id: string): void {
    this.recency.delete(id);
    this.recency.set(id, true);
  }
}

/** A copy with its own memory (`Buffer#slice` would be a view: not a copy). */
function copyOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function positive(key: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new ConfigError(key, `${v} is not a positive number`);
  return v;
}
