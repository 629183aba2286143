/**
 * What a node holds is derived from its series (stored chunks are a derived view:
 * docs/architecture.md): `stored_chunk` adds a chunk, `evicted_chunk` removes it. The view survives restarts and
 * ring eviction through the series' snapshots; the store reconciles it with the files at open.
 */
import type { Entry, View } from '../series/index.js';
import { CHUNKS_VIEW } from './constants.js';
import type { ChunkMeta } from './meta.js';

/** A held chunk: its metadata and the seq of its `stored_chunk` entry (the stored order). */
export interface HeldChunk extends ChunkMeta {
  stored_seq: number;
}

export interface ChunksState {
  held: Record<string, HeldChunk>;
  /** Sum of `size` over `held`. */
  bytes: number;
  count: number;
  /** Highest own seq pushed in a chunk (`chunk_pushed.last_seq`); 0 before any push. */
  pushed_to_seq: number;
}

/** `stored_chunk` entry fields (besides seq/t/event). */
export interface StoredChunkFields extends ChunkMeta {
  id: string;
  /** True when the file was found on disk without an entry and adopted at open. */
  adopted?: boolean;
}

/** Why a chunk left the store. */
export type EvictReason = 'lru' | 'missing' | 'corrupt' | 'removed';

/**
 * The `chunks` view. `apply` updates the state it is given and returns it: the series owns the
 * state and folds entries one at a time, so the copy an immutable fold would make (O(held) per
 * entry) buys nothing. Bounded by the store's `maxChunks`, which is checked before each append.
 */
export const chunksView: View<ChunksState> = {
  name: CHUNKS_VIEW,
  events: ['stored_chunk', 'chunk_pushed', 'evicted_chunk'],
  initial: () => ({ held: {}, bytes: 0, count: 0, pushed_to_seq: 0 }),
  apply(state, entry: Entry) {
    if (entry.event === 'stored_chunk') {
      const id = entry.id;
      if (typeof id !== 'string' || typeof entry.size !== 'number') return state;
      const prev = state.held[id];
      if (prev) {
        state.bytes -= prev.size;
        state.count -= 1;
      }
      state.held[id] = {
        size: entry.size,
        node: String(entry.node ?? ''),
        first_seq: Number(entry.first_seq ?? 0),
        last_seq: Number(entry.last_seq ?? 0),
        min_t: Number(entry.min_t ?? 0),
        max_t: Number(entry.max_t ?? 0),
        types: Array.isArray(entry.types) ? entry.types.map(String) : [],
        ...(entry.types_truncated === true ? { types_truncated: true } : {}),
        stored_seq: entry.seq,
      };
      state.bytes += entry.size;
      state.count += 1;
    } else if (entry.event === 'chunk_pushed') {
      if (typeof entry.last_seq === 'number' && entry.last_seq > state.pushed_to_seq)
        state.pushed_to_seq = entry.last_seq;
    } else if (entry.event === 'evicted_chunk') {
      const id = entry.id;
      if (typeof id !== 'string') return state;
      const prev = state.held[id];
      if (prev) {
        delete state.held[id];
        state.bytes -= prev.size;
        state.count -= 1;
      }
    }
    return state;
  },
};
