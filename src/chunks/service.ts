/**
 * The chunks service for `createNode`: registers the `chunks` view, serves the `bt` kinds, opens
 * the store at start (reconciling it with the disk and re-announcing what it holds), and gives the
 * node `push`, `fetch`, `whoHas` and `usedBytes` (the `economic` limiter's collaborator). With
 * `replicate` K > 0 it also backs the node's own series up to K storage nodes while it runs
 * (backup.ts).
 */
import type { Clock } from '../clock.js';
import type { DeclaredIntent, DeclareOptions, IntentHandler } from '../intent/types.js';
import type { Logger } from '../log.js';
import type { BackgroundPressure } from '../node/types.js';
import type { Roster } from '../presence/types.js';
import type { Series, View } from '../series/types.js';
import type { Transport } from '../transport/index.js';
import { type Backup, type BackupOptions, type BackupState, createBackup } from './backup.js';
import { backupView } from './backup-view.js';
import { type ChunkingOptions, streamChunks } from './chunker.js';
import {
  ANNOUNCE_WINDOW,
  BACKUP_PUSH_WINDOW,
  CHUNKS_VIEW,
  DEFAULT_PULL_WINDOW,
  DEFAULT_PUSH_WINDOW,
} from './constants.js';
import { StoreNotOpenError } from './errors.js';
import { type FetchDeps, type FetchOptions, type FetchResult, fetchChunk } from './fetch.js';
import { BT_ROLE, createChunkHandlers } from './handlers.js';
import { createHaveBoard, type HaveBoard, type HaveOptions, type Holder } from './have.js';
import type { ChunkFilter } from './meta.js';
import { type PullOptions, type PullResult, pullChunks } from './pull.js';
import { type PushOptions, type PushResult, pushChunk, pushInOrder } from './push.js';
import { type ChunkStore, type ChunkStoreOptions, createChunkStore, type ReconcileReport } from './store.js';
import { type ChunksState, chunksView } from './view.js';

/** What the service needs from the node (a subset of `createNode`'s components). */
export interface ChunksComponents {
  id: string;
  roles: readonly string[];
  series: Series;
  transport: Pick<Transport, 'publish' | 'subscribe' | 'topics' | 'connected'>;
  roster: Pick<Roster, 'get' | 'online'>;
  intents: { declare(kind: string, options?: DeclareOptions): DeclaredIntent };
  clock: Clock;
  log: Logger;
  dataDir: string;
  /** The node's limiters saying it is busy (`NodeComponents.pressure`): the backup skips a round. */
  pressure?(): BackgroundPressure | undefined;
}

export interface ChunksServiceOptions
  extends Pick<ChunkStoreOptions, 'budgetBytes' | 'maxChunkBytes' | 'maxChunks' | 'whenFull' | 'cacheBytes'>,
    ChunkingOptions,
    PushOptions,
    HaveOptions {
  /** Deadline of each fetch attempt, ms. Default `DEFAULT_FETCH_DEADLINE_MS` (3000). */
  fetchDeadlineMs?: number;
  /** Chunks of a `pushSeries` in flight at once. Default `DEFAULT_PUSH_WINDOW` (4). */
  pushWindow?: number;
  /** Replace or wrap the bt handlers (tests use it to build a liar). Default: the real ones. */
  wrapHandlers?: (handlers: IntentHandler[]) => IntentHandler[];
  /**
   * Back the node's own series up to this many storage nodes while it runs (backup.ts). Default 0
   * (off); `dameso node` passes `DEFAULT_REPLICATE` (3).
   */
  replicate?: number;
  /** Pacing of the backup (round period, chunks per round, partial tail delay). Defaults in backup.ts. */
  backup?: Omit<BackupOptions, 'replicate'>;
}

export interface PushSeriesResult {
  fromSeq: number;
  toSeq: number;
  /**
   * Last seq of the prefix of the range now replicated K times (`fromSeq - 1` when none): the push
   * covered `fromSeq..coveredToSeq`, `toSeq` when every chunk met K.
   */
  coveredToSeq: number;
  chunks: PushResult[];
}

/** Where a `pushSeries` is: told after each chunk's push. */
export interface PushSeriesProgress {
  fromSeq: number;
  toSeq: number;
  /** Last seq of the chunk just pushed: `(atSeq - fromSeq + 1) / (toSeq - fromSeq + 1)` is done. */
  atSeq: number;
  /** Chunks pushed so far, and their bytes. */
  chunks: number;
  bytes: number;
  /** Of those, the chunks that reached K replicas. */
  met: number;
}

export interface PushSeriesOptions {
  onProgress?: (p: PushSeriesProgress) => void;
}

export interface ChunksInstance {
  start(): Promise<void>;
  stop(): Promise<void>;
  usedBytes(): number;
  /** Where the background backup is; undefined when `replicate` is 0 or before start. */
  backupState(): BackupState | undefined;
}

export interface ChunksService {
  readonly name: 'chunks';
  readonly views: View<unknown>[];
  readonly handlers: IntentHandler[];
  /**
   * The instance `createNode` keeps (`node.services.chunks`): start/stop, and `usedBytes` so the
   * node's `economic` limiter counts the chunk store.
   */
  create(c: ChunksComponents): ChunksInstance;
  /**
   * Cut `fromSeq..toSeq` (default: after the last fully replicated push up to the last entry) and push
   * each chunk as it is cut, `pushWindow` at once (that many chunks in memory). Stops sending at the
   * first chunk that did not reach K replicas; those already sent are settled; the push mark ends
   * before that chunk. Resolves once its `chunk_pushed` entries are durable.
   */
  pushSeries(range?: { fromSeq?: number; toSeq?: number }, o?: PushSeriesOptions): Promise<PushSeriesResult>;
  /** The range a `pushSeries(range)` would push, defaults filled in (after the mark, to the last entry). */
  pushRange(range?: { fromSeq?: number; toSeq?: number }): { fromSeq: number; toSeq: number };
  pushChunk(chunk: { id: string; bytes: Uint8Array }, o?: PushOptions): Promise<PushResult>;
  fetch(id: string, o?: FetchOptions): Promise<FetchResult>;
  /**
   * The chunks matching `filter` (`want_chunks` to every bt node), fetched and verified into `dir`
   * as `<dir>/<id>`, `window` at once (default `DEFAULT_PULL_WINDOW`, 4); those already there and
   * sound are kept. See pull.ts.
   */
  pull(filter: ChunkFilter, dir: string, o?: Partial<PullOptions>): Promise<PullResult>;
  whoHas(id: string): Promise<Holder[]>;
  /** Storage (`bt`) nodes online now, this node excluded: the candidates of a push. */
  storageNodes(): string[];
  /** Bytes of chunk files held (0 before start): the `economic` limiter's collaborator. */
  usedBytes(): number;
  /** Where the background backup is (state, K, storage nodes online, mark, lag); undefined when off. */
  backupState(): BackupState | undefined;
  /** The store (after start). */
  readonly store: ChunkStore;
  /** What reconciliation found at the last start. */
  readonly report: ReconcileReport | undefined;
}

export function createChunksService(options: ChunksServiceOptions = {}): ChunksService {
  let c: ChunksComponents | undefined;
  let store: ChunkStore | undefined;
  let board: HaveBoard | undefined;
  let report: ReconcileReport | undefined;
  let backup: Backup | undefined;
  // A pushSeries in progress: the backup skips its rounds meanwhile (both would push the same range).
  let manualPushes = 0;

  const need = (): { c: ChunksComponents; store: ChunkStore; board: HaveBoard } => {
    if (!c || !store || !board) throw new StoreNotOpenError();
    return { c, store, board };
  };
  const candidates = (): string[] => {
    const { c } = need();
    return c.roster
      .online()
      .filter((p) => p.node !== c.id && p.roles.includes(BT_ROLE))
      .map((p) => p.node);
  };
  const declare = (kind: string, o: DeclareOptions) => need().c.intents.declare(kind, o);
  // What push and fetch need, built once and bound late (to what start() opened), not per call.
  const netDeps: FetchDeps = {
    declare,
    candidates,
    get series() {
      return need().c.series;
    },
    holders: (id) => need().board.holders(id),
    trackedHolders: (id) => need().board.trackedHolders(id),
  };

  // Handlers exist before the store does (the node registers them at construction), so they
  // reach the store and the board through these late-bound deps.
  const real = createChunkHandlers({
    get store() {
      return need().store;
    },
    get series() {
      return need().c.series;
    },
    get log() {
      return need().c.log;
    },
    announce: (id, size) => need().board.announce(id, size),
  });
  // Served from node start, before this service's start opened the store: silence until then.
  const guarded = real.map(
    (h): IntentHandler => ({
      kind: h.kind,
      role: h.role,
      relevant: (i) => (store === undefined ? false : (h.relevant?.(i) ?? true)),
      handle: (i) => h.handle(i),
    }),
  );
  const handlers = options.wrapHandlers ? options.wrapHandlers(guarded) : guarded;

  const service: ChunksService = {
    name: 'chunks',
    views: [chunksView as View<unknown>, backupView as View<unknown>],
    handlers,
    create(components) {
      c = components;
      return {
        usedBytes: () => store?.usedBytes() ?? 0,
        backupState: () => backup?.state(),
        async start() {
          const comp = need0(c);
          board = createHaveBoard(
            { self: comp.id, transport: comp.transport, roster: comp.roster, clock: comp.clock },
            // A node tracks the have records by default (bounded); short-lived CLI nodes do not.
            { ...options, track: options.track ?? true },
          );
          const b = board;
          store = createChunkStore({
            dataDir: comp.dataDir,
            series: comp.series,
            clock: comp.clock,
            log: comp.log,
            budgetBytes: options.budgetBytes,
            maxChunkBytes: options.maxChunkBytes,
            maxChunks: options.maxChunks,
            cacheBytes: options.cacheBytes,
            whenFull: options.whenFull,
            onEvicted: (id) => {
              b.withdraw(id).catch((err: unknown) =>
                comp.log.warn({ id, err: String(err) }, 'chunks: withdraw failed'),
              );
            },
          });
          report = await store.open();
          await b.start();
          // Re-announce what the series says we hold: a restarted holder is found again, and the
          // records of chunks lost while down are withdrawn.
          // QoS 1 publishes go out ANNOUNCE_WINDOW at a time: thousands of chunks must not cost
          // thousands of sequential round trips at boot.
          const jobs: Array<() => Promise<void>> = [];
          if (comp.roles.includes(BT_ROLE))
            for (const { id, size } of store.list()) jobs.push(() => b.announce(id, size));
          for (const id of report.missing) jobs.push(() => b.withdraw(id).catch(() => undefined));
          for (let i = 0; i < jobs.length; i += ANNOUNCE_WINDOW) {
            await Promise.all(jobs.slice(i, i + ANNOUNCE_WINDOW).map((j) => j()));
          }
          if ((options.replicate ?? 0) > 0) {
            backup = startBackup(comp, options.replicate ?? 0);
          }
        },
        async stop() {
          await backup?.stop();
          const s = store;
          store = undefined;
          await board?.stop().catch(() => undefined);
          await s?.close();
        },
      };
    },
    pushRange(range = {}) {
      const { c } = need();
      const state = c.series.view<ChunksState>(CHUNKS_VIEW);
      return { fromSeq: range.fromSeq ?? state.pushed_to_seq + 1, toSeq: range.toSeq ?? c.series.lastSeq };
    },
    async pushSeries(range = {}, o = {}) {
      const { c } = need();
      const { fromSeq, toSeq } = service.pushRange(range);
      if (toSeq < fromSeq) return { fromSeq, toSeq, coveredToSeq: toSeq, chunks: [] };
      const progress: PushSeriesProgress = { fromSeq, toSeq, atSeq: fromSeq - 1, chunks: 0, bytes: 0, met: 0 };
      let coveredToSeq = fromSeq - 1;
      let prefixMet = true;
      manualPushes += 1;
      try {
        const chunks = await pushInOrder(netDeps, streamChunks(c.series, c.id, fromSeq, toSeq, options), {
          ...pushOptions(),
          window: options.pushWindow ?? DEFAULT_PUSH_WINDOW,
          beforeSend: need, // stopped meanwhile: StoreNotOpenError
          onSettled: (res, chunk) => {
            progress.atSeq = chunk.lastSeq;
            progress.chunks += 1;
            progress.bytes += res.size;
            if (res.met) progress.met += 1;
            prefixMet &&= res.met;
            if (prefixMet) coveredToSeq = chunk.lastSeq;
            o.onProgress?.({ ...progress });
          },
        });
        await c.series.flush(); // the entries (and so the mark) are durable when this resolves
        // Every chunk met K: the whole range is covered (seqs past the last entry hold nothing).
        if (prefixMet) coveredToSeq = toSeq;
        return { fromSeq, toSeq, coveredToSeq, chunks };
      } finally {
        manualPushes -= 1;
      }
    },
    pushChunk: (chunk, o) => {
      need(); // not started: StoreNotOpenError at the call
      return pushChunk(netDeps, chunk, pushOptions(o));
    },
    async fetch(id, o) {
      const { c, store } = need();
      // Held here: served from the own store (verified on read), no intent needed.
      const local = store.has(id) ? await store.get(id) : undefined;
      if (local) return { id, bytes: local, from: c.id, attempts: [] };
      return fetchChunk(netDeps, id, { ...o, deadlineMs: o?.deadlineMs ?? options.fetchDeadlineMs });
    },
    pull(filter, dir, o = {}) {
      need(); // not started: StoreNotOpenError at the call
      return pullChunks({ declare, fetch: (id, f) => service.fetch(id, f) }, filter, dir, {
        ...o,
        window: o.window ?? DEFAULT_PULL_WINDOW,
        deadlineMs: o.deadlineMs ?? options.fetchDeadlineMs,
      });
    },
    whoHas: (id) => need().board.whoHas(id),
    storageNodes: () => candidates(),
    usedBytes: () => store?.usedBytes() ?? 0,
    backupState: () => backup?.state(),
    get store() {
      return need().store;
    },
    get report() {
      return report;
    },
  };

  /** The background backup of the node's own series, wired to this service's push and have board. */
  function startBackup(comp: ChunksComponents, replicate: number): Backup {
    const b = createBackup(
      {
        series: comp.series,
        clock: comp.clock,
        log: comp.log,
        storageNodes: candidates,
        connected: () => comp.transport.connected,
        pressure: () => comp.pressure?.(),
        busy: () => manualPushes > 0,
        cut: (from, to) => streamChunks(comp.series, comp.id, from, to, options),
        push: (chunks) =>
          pushInOrder(netDeps, chunks, {
            replicas: replicate,
            deadlineMs: options.deadlineMs,
            window: BACKUP_PUSH_WINDOW,
            beforeSend: need,
            knownHolders,
          }),
      },
      { ...options.backup, replicate },
    );
    b.start();
    return b;
  }

  /** The online nodes (self excluded) the have tracker knows to hold `id`. */
  function knownHolders(id: string): string[] {
    return (need().board.trackedHolders(id) ?? []).filter((h) => h.online).map((h) => h.node);
  }

  function pushOptions(o: PushOptions = {}): PushOptions {
    return { replicas: o.replicas ?? options.replicas, deadlineMs: o.deadlineMs ?? options.deadlineMs };
  }

  return service;
}

function need0(c: ChunksComponents | undefined): ChunksComponents {
  if (!c) throw new StoreNotOpenError();
  return c;
}
