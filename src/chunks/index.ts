/**
 * Chunks: a content-addressed chunk store under a byte budget, the `bt` handlers
 * (`store_chunk`, `want_chunk`, `want_chunks`), push to K replicas, discovery from retained `have`
 * records, fetch from any holder — every byte checked against its id (docs/protocol.md §8).
 */
export {
  type Backup,
  type BackupDeps,
  type BackupOptions,
  type BackupReason,
  type BackupState,
  type BackupStateName,
  createBackup,
} from './backup.js';
export { type BackupViewState, backupView, isReplicationBookkeeping } from './backup-view.js';
export * from './chunker.js';
export * from './constants.js';
export * from './errors.js';
export { type FetchAttempt, type FetchDeps, type FetchOptions, type FetchResult, fetchChunk } from './fetch.js';
export { BT_ROLE, type ChunkHandlersDeps, createChunkHandlers, recordRejected } from './handlers.js';
export { createHaveBoard, type HaveBoard, type HaveDeps, type HaveOptions, type Holder } from './have.js';
export { type ChunkFilter, type ChunkMeta, matchesFilter, parseFilter } from './meta.js';
export { type PullOptions, type PullProgress, type PullResult, pullChunks } from './pull.js';
export { type PushDeps, type PushOptions, type PushResult, pushChunk } from './push.js';
export type { PushSeriesOptions, PushSeriesProgress, PushSeriesResult } from './push-series.js';
export { byPreference, rankCandidates, rendezvousScore } from './rendezvous.js';
export {
  type ChunksComponents,
  type ChunksInstance,
  type ChunksService,
  type ChunksServiceOptions,
  createChunksService,
} from './service.js';
export {
  type ChunkStore,
  type ChunkStoreOptions,
  createChunkStore,
  type PutResult,
  type ReconcileReport,
  type WhenFull,
} from './store.js';
export { hashMismatch, isChunkId, sha256Hex, verifyChunk } from './verify.js';
export { type ChunksState, chunksView, type EvictReason, type HeldChunk } from './view.js';
