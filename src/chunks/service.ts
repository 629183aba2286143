/**
 * The chunks service for `createNode`: registers the `chunks` view, serves the `bt` kinds, opens
 * the store at start (reconciling it with the disk and re-announcing what it holds), and gives the
 * node `push`, `fetch`, `whoHas` and `usedBytes` (the `economic` limiter's collaborator). With
 * `replicate` K > 0 it also backs the node's own series up to K storage nodes while it runs
 * (backup.ts).
 */
import type { Clock } from '../clock.js';
import type { DeclaredIntent, DeclareOptions, IntentHandler } from '../intent/index.js';
import type { Logger } from '../log.js';
import type { BackgroundPressure } from '../node/types.js';
import type { Roster } from '../presence/index.js';
import type { Series, View } from '../series/index.js';
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
import { type PushSeriesOptions, type PushSeriesResult, pushSeriesRange } from './push-series.js';
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
  pushSeries(range?: { fromSeq?: number; toSeq?: number }, options?: PushSeriesOptions): Promise<PushSeriesResult>;
  /** The range a `pushSeries(range)` would push, defaults filled in (after the mark, to the last entry). */
  pushRange(range?: { fromSeq?: number; toSeq?: number }): { fromSeq: number; toSeq: number };
  pushChunk(chunk: { id: string; bytes: Uint8Array }, options?: PushOptions): Promise<PushResult>;
  fetch(id: string, options?: FetchOptions): Promise<FetchResult>;
  /**
   * The chunks matching `filter` (`want_chunks` to every bt node), fetched and verified into `dir`
   * as `<dir>/<id>`, `window` at once (default `DEFAULT_PULL_WINDOW`, 4); those already there and
   * sound are kept. See pull.ts.
   */
  pull(filter: ChunkFilter, dir: string, options?: Partial<PullOptions>): Promise<PullResult>;
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

/**
 * What the service is bound to, filled in by `create` and `start`: the handlers and the push and
 * fetch collaborators exist before it (the node registers them at construction) and reach it late.
 */
interface Bound {
  c?: ChunksComponents;
  store?: ChunkStore;
  board?: HaveBoard;
  report?: ReconcileReport;
  backup?: Backup;
  /** A pushSeries in progress: the backup skips its rounds meanwhile (both would push the same range). */
  manualPushes: number;
}

interface Opened {
  c: ChunksComponents;
  store: ChunkStore;
  board: HaveBoard;
}

function need({ c, store, board }: Bound): Opened {
  if (!c || !store || !board) throw new StoreNotOpenError();
  return { c, store, board };
}

export function createChunksService(options: ChunksServiceOptions = {}): ChunksService {
  const bound: Bound = { manualPushes: 0 };
  const net = netDeps(bound);
  const pushOptionsOf = (push: PushOptions = {}): PushOptions => ({
    replicas: push.replicas ?? options.replicas,
    deadlineMs: push.deadlineMs ?? options.deadlineMs,
  });
  const handlers = guardedHandlers(bound);

  const service: ChunksService = {
    name: 'chunks',
    views: [chunksView as View<unknown>, backupView as View<unknown>],
    handlers: options.wrapHandlers ? options.wrapHandlers(handlers) : handlers,
    create(components) {
      bound.c = components;
      return {
        usedBytes: () => bound.store?.usedBytes() ?? 0,
        backupState: () => bound.backup?.state(),
        start: () => startChunks(bound, options, net),
        stop: () => stopChunks(bound),
      };
    },
    pushRange(range = {}) {
      const { c } = need(bound);
      const state = c.series.view<ChunksState>(CHUNKS_VIEW);
      return { fromSeq: range.fromSeq ?? state.pushed_to_seq + 1, toSeq: range.toSeq ?? c.series.lastSeq };
    },
    async pushSeries(range = {}, progress = {}) {
      const { c } = need(bound);
      const { fromSeq, toSeq } = service.pushRange(range);
      if (toSeq < fromSeq) return { fromSeq, toSeq, coveredToSeq: toSeq, chunks: [] };
      bound.manualPushes += 1;
      try {
        const push = {
          ...pushOptionsOf(),
          window: options.pushWindow ?? DEFAULT_PUSH_WINDOW,
          beforeSend: () => need(bound), // stopped meanwhile: StoreNotOpenError
        };
        return await pushSeriesRange(
          { self: c.id, series: c.series, net, chunking: options, push },
          fromSeq,
          toSeq,
          progress,
        );
      } finally {
        bound.manualPushes -= 1;
      }
    },
    pushChunk: (chunk, push) => {
      need(bound); // not started: StoreNotOpenError at the call
      return pushChunk(net, chunk, pushOptionsOf(push));
    },
    async fetch(id, fetch) {
      const { c, store } = need(bound);
      // Held here: served from the own store (verified on read), no intent needed.
      const local = store.has(id) ? await store.get(id) : undefined;
      if (local) return { id, bytes: local, from: c.id, attempts: [] };
      return fetchChunk(net, id, { ...fetch, deadlineMs: fetch?.deadlineMs ?? options.fetchDeadlineMs });
    },
    pull(filter, dir, pull = {}) {
      need(bound); // not started: StoreNotOpenError at the call
      return pullChunks({ declare: net.declare, fetch: (id, f) => service.fetch(id, f) }, filter, dir, {
        ...pull,
        window: pull.window ?? DEFAULT_PULL_WINDOW,
        deadlineMs: pull.deadlineMs ?? options.fetchDeadlineMs,
      });
    },
    whoHas: (id) => need(bound).board.whoHas(id),
    storageNodes: () => net.candidates(),
    usedBytes: () => bound.store?.usedBytes() ?? 0,
    backupState: () => bound.backup?.state(),
    get store() {
      return need(bound).store;
    },
    get report() {
      return bound.report;
    },
  };
  return service;
}

/** What push and fetch need, built once and bound late (to what start() opened), not per call. */
function netDeps(bound: Bound): FetchDeps {
  return {
    declare: (kind, declareOptions) => need(bound).c.intents.declare(kind, declareOptions),
    candidates: () => storageNodes(need(bound).c),
    get series() {
      return need(bound).c.series;
    },
    holders: (id) => need(bound).board.holders(id),
    trackedHolders: (id) => need(bound).board.trackedHolders(id),
  };
}

/** Storage (`bt`) nodes online now, this node excluded. */
function storageNodes(c: ChunksComponents): string[] {
  return c.roster
    .online()
    .filter((p) => p.node !== c.id && p.roles.includes(BT_ROLE))
    .map((p) => p.node);
}

/**
 * The bt handlers, reaching the store and the board through late-bound deps; served from node
 * start, before this service's start opened the store: silence until then.
 */
function guardedHandlers(bound: Bound): IntentHandler[] {
  const real = createChunkHandlers({
    get store() {
      return need(bound).store;
    },
    get series() {
      return need(bound).c.series;
    },
    get log() {
      return need(bound).c.log;
    },
    announce: (id, size) => need(bound).board.announce(id, size),
  });
  return real.map(
    (h): IntentHandler => ({
      kind: h.kind,
      role: h.role,
      relevant: (i) => (bound.store === undefined ? false : (h.relevant?.(i) ?? true)),
      handle: (i) => h.handle(i),
    }),
  );
}

/** Opens the board and the store, re-announces what the store holds, and starts the backup. */
async function startChunks(bound: Bound, options: ChunksServiceOptions, net: FetchDeps): Promise<void> {
  const comp = bound.c;
  if (!comp) throw new StoreNotOpenError();
  const board = createHaveBoard(
    { self: comp.id, transport: comp.transport, roster: comp.roster, clock: comp.clock },
    // A node tracks the have records by default (bounded); short-lived CLI nodes do not.
    { ...options, track: options.track ?? true },
  );
  bound.board = board;
  const store = createChunkStore({
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
      board.withdraw(id).catch((err: unknown) => comp.log.warn({ id, err: String(err) }, 'chunks: withdraw failed'));
    },
  });
  bound.store = store;
  const report = await store.open();
  bound.report = report;
  await board.start();
  await reannounce(board, comp.roles.includes(BT_ROLE) ? store.list() : [], report.missing);
  const replicate = options.replicate ?? 0;
  if (replicate > 0) bound.backup = startBackup(bound, comp, net, options, replicate);
}

/**
 * Re-announce what the series says we hold: a restarted holder is found again, and the records of
 * chunks lost while down are withdrawn. QoS 1 publishes go out ANNOUNCE_WINDOW at a time: thousands
 * of chunks must not cost thousands of sequential round trips at boot.
 */
async function reannounce(
  board: HaveBoard,
  held: Iterable<{ id: string; size: number }>,
  missing: readonly string[],
): Promise<void> {
  const jobs: Array<() => Promise<void>> = [];
  for (const { id, size } of held) jobs.push(() => board.announce(id, size));
  for (const id of missing) jobs.push(() => board.withdraw(id).catch(() => undefined));
  for (let i = 0; i < jobs.length; i += ANNOUNCE_WINDOW) {
    await Promise.all(jobs.slice(i, i + ANNOUNCE_WINDOW).map((j) => j()));
  }
}

async function stopChunks(bound: Bound): Promise<void> {
  await bound.backup?.stop();
  const store = bound.store;
  bound.store = undefined;
  await bound.board?.stop().catch(() => undefined);
  await store?.close();
}

/** The background backup of the node's own series, wired to this service's push and have board. */
function startBackup(
  bound: Bound,
  comp: ChunksComponents,
  net: FetchDeps,
  options: ChunksServiceOptions,
  replicate: number,
): Backup {
  /** The online nodes (self excluded) the have tracker knows to hold `id`. */
  const knownHolders = (id: string): string[] =>
    (need(bound).board.trackedHolders(id) ?? []).filter((h) => h.online).map((h) => h.node);
  const backup = createBackup(
    {
      series: comp.series,
      clock: comp.clock,
      log: comp.log,
      storageNodes: () => storageNodes(need(bound).c),
      connected: () => comp.transport.connected,
      pressure: () => comp.pressure?.(),
      busy: () => bound.manualPushes > 0,
      cut: (from, to) => streamChunks(comp.series, comp.id, from, to, options),
      push: (chunks) =>
        pushInOrder(net, chunks, {
          replicas: replicate,
          deadlineMs: options.deadlineMs,
          window: BACKUP_PUSH_WINDOW,
          beforeSend: () => need(bound),
          knownHolders,
        }),
    },
    { ...options.backup, replicate },
  );
  backup.start();
  return backup;
}
